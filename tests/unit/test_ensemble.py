"""MLPEnsemble: independent ReLU networks side by side, trained in one pass."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from xenthelpers import MLPEnsemble, fit, sum_over_members

F64 = torch.float64


def _standalone(ensemble: MLPEnsemble, index: int) -> nn.Sequential:
    """Member ``index`` rebuilt by hand from nn.Linear and nn.ReLU, weights copied."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(ensemble.sizes[:-1], ensemble.sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out, dtype=F64), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    linears = [layer for layer in net if isinstance(layer, nn.Linear)]
    with torch.no_grad():
        for linear, weight, bias in zip(linears, ensemble.weights, ensemble.biases):
            linear.weight.copy_(weight[index].T)
            linear.bias.copy_(bias[index])
    return net


def _ensemble(num_members=3, sizes=(5, 16, 8, 4), seed=0) -> MLPEnsemble:
    torch.manual_seed(seed)
    return MLPEnsemble(num_members, sizes, dtype=F64)


# --- every member is the MLP it claims to be ------------------------------------------------


def test_member_equals_a_standalone_mlp_with_the_same_weights():
    ensemble = _ensemble()
    x = torch.randn(50, 3, 5, dtype=F64)
    out = ensemble(x)
    for m in range(3):
        expected = _standalone(ensemble, m)(x[:, m])
        torch.testing.assert_close(out[:, :, m], expected, rtol=0, atol=1e-12)


def test_a_two_dimensional_input_is_shared_by_every_member():
    ensemble = _ensemble()
    x = torch.randn(20, 5, dtype=F64)
    out = ensemble(x)
    for m in range(3):
        torch.testing.assert_close(out[:, :, m], _standalone(ensemble, m)(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(out, ensemble(x.unsqueeze(1).expand(-1, 3, -1)), rtol=0, atol=0)


def test_members_differ_so_the_comparison_above_is_not_trivial():
    out = _ensemble()(torch.randn(20, 5, dtype=F64))
    assert (out[:, :, 0] - out[:, :, 1]).abs().max() > 1e-2


@settings(max_examples=20)
@given(
    num_members=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 6), max_size=3),
    d_in=st.integers(1, 4),
    num_classes=st.integers(1, 5),
    n=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_every_member_matches_its_standalone_copy(num_members, hidden, d_in, num_classes, n,
                                                  seed):
    sizes = (d_in, *hidden, num_classes)
    ensemble = _ensemble(num_members, sizes, seed)
    x = torch.randn(n, num_members, d_in, dtype=F64, generator=torch.Generator().manual_seed(seed))
    out = ensemble(x)
    assert out.shape == (n, num_classes, num_members)
    for m in range(num_members):
        torch.testing.assert_close(out[:, :, m], _standalone(ensemble, m)(x[:, m]),
                                   rtol=0, atol=1e-12)


def test_member_returns_an_independent_copy():
    ensemble = _ensemble()
    x = torch.randn(10, 5, dtype=F64)
    copy = ensemble.member(2)
    assert isinstance(copy, nn.Sequential)
    assert [type(layer) for layer in copy] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    torch.testing.assert_close(copy(x), _standalone(ensemble, 2)(x), rtol=0, atol=0)
    before = ensemble(x).clone()
    with torch.no_grad():
        for p in copy.parameters():
            p.add_(1.0)
    torch.testing.assert_close(ensemble(x), before, rtol=0, atol=0)


# --- shapes, dtypes and initialisation ------------------------------------------------------


@pytest.mark.parametrize("sizes", [(3, 2), (3, 7, 2), (3, 7, 5, 6, 2)])
@pytest.mark.parametrize("num_members", [1, 4])
def test_output_shape(num_members, sizes):
    model = MLPEnsemble(num_members, sizes)
    assert model(torch.randn(6, num_members, 3)).shape == (6, 2, num_members)
    assert model(torch.randn(6, 3)).shape == (6, 2, num_members)
    assert len(model.weights) == len(sizes) - 1
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        assert model.weights[layer].shape == (num_members, fan_in, fan_out)
        assert model.biases[layer].shape == (num_members, fan_out)


def test_output_layout_is_what_cross_entropy_expects():
    model = _ensemble()
    logits = model(torch.randn(8, 3, 5, dtype=F64))
    y = torch.randint(0, 4, (8, 3))
    per_member = F.cross_entropy(logits, y, reduction="none").mean(0)
    for m in range(3):
        torch.testing.assert_close(per_member[m], F.cross_entropy(logits[:, :, m], y[:, m]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_argument(dtype):
    model = MLPEnsemble(2, (3, 4, 2), dtype=dtype)
    assert all(p.dtype == dtype for p in model.parameters())
    assert model(torch.randn(5, 3, dtype=dtype)).dtype == dtype


def test_initialisation_is_that_of_nn_linear_and_reproducible():
    sizes = (400, 100, 3)
    torch.manual_seed(1)
    model = MLPEnsemble(2, sizes)
    for layer, fan_in in enumerate(sizes[:-1]):
        bound = 1 / math.sqrt(fan_in)
        for tensor in (model.weights[layer], model.biases[layer]):
            assert tensor.abs().max() <= bound
            # Uniform on [-b, b]: the standard deviation is b / sqrt(3).
            assert abs(tensor.std().item() - bound / math.sqrt(3)) < 0.15 * bound
    torch.manual_seed(1)
    again = MLPEnsemble(2, sizes)
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)


def test_extra_repr_names_the_configuration():
    assert "num_members=2, sizes=(3, 4, 2)" in repr(MLPEnsemble(2, [3, 4, 2]))


def test_gradcheck_in_float64():
    model = MLPEnsemble(2, (3, 4, 2), dtype=F64)
    # Keep pre-activations away from the ReLU kink, where finite differences are wrong.
    with torch.no_grad():
        for bias in model.biases:
            bias.add_(0.5)
    x = torch.randn(5, 2, 3, dtype=F64, requires_grad=True)
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in model.parameters())

    def forward(inputs, *values):
        return torch.func.functional_call(model, dict(zip(names, values)), (inputs,))

    assert torch.autograd.gradcheck(forward, (x, *params))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    model = _ensemble()
    x = torch.randn(10, 3, 5, dtype=F64)
    expected = model(x)
    torch.testing.assert_close(model.to("cuda")(x.to("cuda")).cpu(), expected)


# --- the summed loss trains each member as if it were alone ---------------------------------


def _train(model, loss_fn, x, y, optimizer, lr, steps):
    opt = optimizer(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return model


def _data(num_members=3, n=40, d=5, num_classes=4):
    g = torch.Generator().manual_seed(123)
    x = torch.randn(n, num_members, d, dtype=F64, generator=g)
    y = torch.randint(0, num_classes, (n, num_members), generator=g)
    return x, y


def _assert_member_weights(ensemble, index, standalone, atol):
    trained = ensemble.member(index)
    for a, b in zip(trained.parameters(), standalone.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=atol)


_summed_loss = sum_over_members(F.cross_entropy, 3)


def _mean_loss(logits, target):
    return F.cross_entropy(logits, target)


@pytest.mark.parametrize(
    ("optimizer", "lr"),
    [(torch.optim.Adam, 1e-2), (torch.optim.SGD, 0.5), (torch.optim.AdamW, 1e-2)],
)
def test_summed_loss_trains_each_member_as_if_alone(optimizer, lr):
    x, y = _data()
    ensemble = _ensemble()
    alone = [_standalone(ensemble, m) for m in range(3)]
    _train(ensemble, _summed_loss, x, y, optimizer, lr, steps=25)
    for m, net in enumerate(alone):
        _train(net, F.cross_entropy, x[:, m], y[:, m], optimizer, lr, steps=25)
        _assert_member_weights(ensemble, m, net, atol=1e-10)


def test_training_moved_the_weights_so_the_comparison_is_not_trivial():
    x, y = _data()
    ensemble = _ensemble()
    start = ensemble.member(0)
    _train(ensemble, _summed_loss, x, y, torch.optim.Adam, 1e-2, steps=25)
    moved = max((a - b).abs().max() for a, b in zip(ensemble.member(0).parameters(),
                                                    start.parameters()))
    assert moved > 0.05


def test_mean_loss_under_sgd_divides_each_learning_rate_by_the_number_of_members():
    x, y = _data()
    ensemble = _ensemble()
    alone = [_standalone(ensemble, m) for m in range(3)]
    copies = [_standalone(ensemble, m) for m in range(3)]
    _train(ensemble, _mean_loss, x, y, torch.optim.SGD, 0.6, steps=25)
    for m in range(3):
        _train(alone[m], F.cross_entropy, x[:, m], y[:, m], torch.optim.SGD, 0.6 / 3, steps=25)
        _assert_member_weights(ensemble, m, alone[m], atol=1e-10)
        # ... and therefore not the weights reached with the full learning rate.
        _train(copies[m], F.cross_entropy, x[:, m], y[:, m], torch.optim.SGD, 0.6, steps=25)
        gap = max((a - b).abs().max() for a, b in zip(ensemble.member(m).parameters(),
                                                      copies[m].parameters()))
        assert gap > 1e-2


def test_mean_loss_under_adam_acts_as_a_larger_epsilon():
    x, y = _data()
    ensemble = _ensemble()
    alone = [_standalone(ensemble, m) for m in range(3)]
    _train(ensemble, _mean_loss, x, y, torch.optim.Adam, 1e-2, steps=25)
    for m in range(3):
        adam_with_3_eps = functools.partial(torch.optim.Adam, eps=3e-8)
        _train(alone[m], F.cross_entropy, x[:, m], y[:, m], adam_with_3_eps, 1e-2, steps=25)
        _assert_member_weights(ensemble, m, alone[m], atol=1e-10)


# --- sum_over_members -------------------------------------------------------------------------


@settings(max_examples=25)
@given(
    num_members=st.integers(1, 4),
    n=st.integers(1, 12),
    num_classes=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_sum_over_members_is_the_sum_of_the_members_mean_losses(num_members, n, num_classes,
                                                                seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, num_classes, num_members, dtype=F64, generator=g)
    target = torch.randint(0, num_classes, (n, num_members), generator=g)
    total = sum_over_members(F.cross_entropy, num_members)(logits, target)
    by_member = sum(F.cross_entropy(logits[..., m], target[:, m]) for m in range(num_members))
    torch.testing.assert_close(total, by_member, rtol=1e-13, atol=0)


def test_sum_over_members_is_bit_for_bit_the_product_with_the_number_of_members():
    logits = torch.randn(30, 4, 5, requires_grad=True, generator=torch.Generator().manual_seed(1))
    target = torch.randint(0, 4, (30, 5), generator=torch.Generator().manual_seed(2))
    smoothed = functools.partial(F.cross_entropy, label_smoothing=0.1)
    by_hand = 5 * smoothed(logits, target)
    (grad_by_hand,) = torch.autograd.grad(by_hand, logits)
    wrapped = sum_over_members(smoothed, 5)(logits, target)
    (grad_wrapped,) = torch.autograd.grad(wrapped, logits)
    assert torch.equal(wrapped, by_hand) and torch.equal(grad_wrapped, grad_by_hand)


def test_fit_with_sum_over_members_repeats_the_hand_written_product_exactly():
    x, y = _data()
    models = [_ensemble(), _ensemble()]
    losses = [sum_over_members(F.cross_entropy, 3), lambda z, t: 3 * F.cross_entropy(z, t)]
    histories = [fit(m, loss, x, y, num_epochs=20, lr=1e-2, batch_size=16,
                     generator=torch.Generator().manual_seed(0))
                 for m, loss in zip(models, losses)]
    assert histories[0].loss == histories[1].loss
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.equal(a, b)


def test_sum_over_members_works_for_binary_outputs_of_one_logit():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(20, 1, 4, dtype=F64, generator=g)
    target = torch.randint(0, 2, (20, 4), generator=g).to(F64)
    bce = sum_over_members(lambda z, t: F.binary_cross_entropy_with_logits(z[:, 0], t), 4)
    by_member = sum(F.binary_cross_entropy_with_logits(logits[:, 0, m], target[:, m])
                    for m in range(4))
    torch.testing.assert_close(bce(logits, target), by_member, rtol=1e-13, atol=0)


def test_class_weights_break_the_identity_as_documented():
    # The weighted mean divides by the weight of every member's targets together.
    logits = torch.randn(50, 3, 2, dtype=F64, generator=torch.Generator().manual_seed(4))
    target = torch.stack([torch.zeros(50, dtype=torch.long), torch.full((50,), 2)], dim=1)
    weight = torch.tensor([1.0, 1.0, 10.0], dtype=F64)
    pooled = sum_over_members(functools.partial(F.cross_entropy, weight=weight), 2)
    by_member = sum(F.cross_entropy(logits[..., m], target[:, m], weight=weight)
                    for m in range(2))
    assert not torch.allclose(pooled(logits, target), by_member)


def test_sum_over_members_names_its_loss_and_count():
    assert repr(sum_over_members(F.cross_entropy, 5)).startswith("sum_over_members(<function")
    assert repr(sum_over_members(F.cross_entropy, 5)).endswith("num_members=5)")


@pytest.mark.parametrize(
    ("loss_fn", "num_members", "match"),
    [("cross_entropy", 3, "loss_fn"), (F.cross_entropy, 0, "num_members"),
     (F.cross_entropy, 2.0, "num_members"), (F.cross_entropy, True, "num_members")],
)
def test_sum_over_members_rejects_bad_arguments(loss_fn, num_members, match):
    with pytest.raises(ValueError, match=match):
        sum_over_members(loss_fn, num_members)


@pytest.mark.parametrize("shape", [(10, 4, 2), (10, 3, 4), ()])
def test_sum_over_members_rejects_outputs_without_the_members_last(shape):
    loss_fn = sum_over_members(lambda z, t: z.sum(), 3)
    with pytest.raises(ValueError, match="outputs.*3 members"):
        loss_fn(torch.zeros(shape), torch.zeros(10))


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("num_members", [0, -1, 1.5, True, "3"])
def test_rejects_bad_num_members(num_members):
    with pytest.raises(ValueError, match="num_members"):
        MLPEnsemble(num_members, (3, 2))


@pytest.mark.parametrize("sizes", [(3,), (), "32", 3, None, (3, 0, 2), (3, -1), (3, 2.0),
                                   (3, True)])
def test_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        MLPEnsemble(2, sizes)


@pytest.mark.parametrize(
    "shape", [(6, 4), (6, 3, 4), (6, 2, 4), (6,), (6, 2, 3, 1), (2, 6, 3)]
)
def test_rejects_an_input_of_the_wrong_shape(shape):
    model = MLPEnsemble(2, (3, 4, 2))
    with pytest.raises(ValueError, match="input"):
        model(torch.randn(shape))


def test_rejects_an_integer_input():
    with pytest.raises(ValueError, match="input"):
        MLPEnsemble(2, (3, 2))(torch.ones(4, 3, dtype=torch.long))


@pytest.mark.parametrize("index", [-1, 2, 1.0, True])
def test_member_rejects_a_bad_index(index):
    with pytest.raises(ValueError, match="index"):
        MLPEnsemble(2, (3, 2)).member(index)
