"""fit_ensemble: the chapters' seeded build-and-train sequence in one call, bit for bit."""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F

import xenthelpers
from xenthelpers import MLPEnsemble, fit, fit_ensemble, sum_over_members
from xenthelpers.training import fit_ensemble as from_training

SIZES = (3, 16, 4)
# One SGD step too small to move a float32 weight: the model keeps its initial weights.
FIRST_STEP = {"num_epochs": 1, "lr": 1e-30, "optimizer": "sgd"}


def _data(num_members=5, n=60, shared=False):
    g = torch.Generator().manual_seed(7)
    shape = (n, 3) if shared else (n, num_members, 3)
    x = torch.randn(shape, generator=g)
    y = torch.randint(0, 4, (n, num_members), generator=g)
    return x, y


def _by_hand(num_members, sizes, loss_fn, x, y, *, seed=0, summed=True, dtype=None, device="cpu",
             **options):
    """The sequence the chapters wrote in every `train` function."""
    if seed is not None:
        torch.manual_seed(seed)
    model = MLPEnsemble(num_members, sizes, dtype=dtype).to(device)
    if summed:
        loss_fn = sum_over_members(loss_fn, num_members)
    fit(model, loss_fn, x, y, **options)
    return model


def _assert_identical(a: MLPEnsemble, b: MLPEnsemble) -> None:
    assert type(a) is type(b) is MLPEnsemble
    assert (a.num_members, a.sizes) == (b.num_members, b.sizes)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert p.dtype == q.dtype and p.device == q.device
        assert torch.equal(p, q)


def _summed_by_hand(logits, target):
    """A loss that already sums over the members, as with ``sum_members=False``."""
    return F.cross_entropy(logits, target, reduction="sum") / len(logits)


CASES = {
    "cross-entropy": dict(loss_fn=F.cross_entropy),
    "label smoothing": dict(loss_fn=functools.partial(F.cross_entropy, label_smoothing=0.1)),
    "already summed": dict(loss_fn=_summed_by_hand, summed=False),
    "mini-batches": dict(loss_fn=F.cross_entropy, batch_size=16),
    "shared inputs": dict(loss_fn=F.cross_entropy, shared=True),
    "float64, sgd": dict(loss_fn=F.cross_entropy, dtype=torch.float64, optimizer="sgd", lr=0.3),
    "another seed": dict(loss_fn=F.cross_entropy, seed=3),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_repeats_the_hand_written_sequence_bit_for_bit(case):
    case = dict(case)
    loss_fn, shared = case.pop("loss_fn"), case.pop("shared", False)
    seed, summed = case.pop("seed", 0), case.pop("summed", True)
    dtype = case.pop("dtype", None)
    options = {"num_epochs": 30, "lr": 1e-2, **case}
    x, y = _data(shared=shared)
    if dtype is not None:
        x = x.to(dtype)
    expected = _by_hand(5, SIZES, loss_fn, x, y, seed=seed, summed=summed, dtype=dtype, **options)
    after_by_hand = torch.get_rng_state()
    model = fit_ensemble(5, SIZES, loss_fn, x, y, init_seed=seed, sum_members=summed,
                         dtype=dtype, **options)
    _assert_identical(model, expected)
    # The global generator ends where the hand-written sequence left it.
    assert torch.equal(torch.get_rng_state(), after_by_hand)


def test_training_moved_the_weights_so_the_comparison_is_not_trivial():
    x, y = _data()
    torch.manual_seed(0)
    start = MLPEnsemble(5, SIZES)
    model = fit_ensemble(5, SIZES, F.cross_entropy, x, y, num_epochs=30, lr=1e-2)
    pairs = zip(model.parameters(), start.parameters(), strict=True)
    assert max((a - b).abs().max() for a, b in pairs) > 0.05


def test_every_setting_starts_from_the_same_weights():
    x, y = _data()
    plain = fit_ensemble(5, SIZES, F.cross_entropy, x, y, **FIRST_STEP)
    smooth = fit_ensemble(5, SIZES, functools.partial(F.cross_entropy, label_smoothing=0.3), x, y,
                          **FIRST_STEP)
    _assert_identical(plain, smooth)
    torch.manual_seed(0)
    _assert_identical(plain, MLPEnsemble(5, SIZES))
    other = fit_ensemble(5, SIZES, F.cross_entropy, x, y, init_seed=1, **FIRST_STEP)
    assert not torch.equal(other.weights[0], plain.weights[0])


def test_init_seed_none_draws_from_the_global_generator_as_it_stands():
    x, y = _data()
    torch.manual_seed(11)
    expected = _by_hand(5, SIZES, F.cross_entropy, x, y, seed=None, num_epochs=5)
    torch.manual_seed(11)
    model = fit_ensemble(5, SIZES, F.cross_entropy, x, y, init_seed=None, num_epochs=5)
    _assert_identical(model, expected)


def test_the_model_is_trained_in_eval_mode_where_the_inputs_are():
    x, y = _data()
    model = fit_ensemble(5, SIZES, F.cross_entropy, x, y, num_epochs=2)
    assert not model.training
    assert all(p.device == x.device for p in model.parameters())
    assert model.num_members == 5 and model.sizes == SIZES


def test_exported_from_the_subpackage_and_the_top_level():
    assert from_training is fit_ensemble is xenthelpers.fit_ensemble
    assert "fit_ensemble" in xenthelpers.__all__ and "fit_ensemble" in xenthelpers.training.__all__


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_repeats_the_hand_written_sequence_and_starts_from_the_cpu_weights():
    x, y = _data()
    options = {"num_epochs": 20, "lr": 1e-2}
    expected = _by_hand(5, SIZES, F.cross_entropy, x.cuda(), y.cuda(), device="cuda", **options)
    model = fit_ensemble(5, SIZES, F.cross_entropy, x.cuda(), y.cuda(), **options)
    _assert_identical(model, expected)
    also = fit_ensemble(5, SIZES, F.cross_entropy, x, y, device="cuda", **options)
    _assert_identical(also, expected)
    on_cpu = fit_ensemble(5, SIZES, F.cross_entropy, x, y, **FIRST_STEP)
    on_gpu = fit_ensemble(5, SIZES, F.cross_entropy, x, y, device="cuda", **FIRST_STEP)
    for a, b in zip(on_cpu.parameters(), on_gpu.parameters(), strict=True):
        assert torch.equal(a, b.cpu())


# --- validation: every argument named, nothing drawn before the checks pass ------------------


def _call(**changes):
    x, y = _data()
    arguments = dict(num_members=5, sizes=SIZES, loss_fn=F.cross_entropy, inputs=x, targets=y,
                     num_epochs=1)
    arguments.update(changes)
    return fit_ensemble(**arguments)


BAD = [
    ("num_members", 0), ("num_members", True), ("num_members", 2.0),
    ("sizes", (3,)), ("sizes", (3, 0, 4)), ("sizes", "34"),
    ("loss_fn", "cross_entropy"),
    ("inputs", torch.zeros(60, 5, 2)), ("inputs", torch.zeros(60, 4, 3)),
    ("inputs", torch.zeros(60, 5, 3, dtype=torch.long)), ("inputs", torch.zeros(0, 5, 3)),
    ("inputs", torch.zeros(60)),
    ("targets", torch.zeros(59, 5, dtype=torch.long)), ("targets", torch.tensor(1)),
    ("init_seed", -1), ("init_seed", 1.5), ("init_seed", True), ("init_seed", "0"),
    ("sum_members", 1), ("sum_members", "yes"),
    ("device", "gpu"), ("device", 0),
    ("dtype", torch.long), ("dtype", "float32"),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v!r}"[:40] for n, v in BAD])
def test_rejects_a_bad_argument_by_name_before_touching_the_generator(name, value):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    with pytest.raises(ValueError, match=f"`{name}`"):
        _call(**{name: value})
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(("name", "value"), [("num_epochs", 0), ("lr", -1.0),
                                             ("optimizer", "lbfgs")])
def test_fit_options_are_checked_by_fit_and_named(name, value):
    with pytest.raises(ValueError, match=name):
        _call(**{name: value})


def test_rejects_an_option_fit_does_not_take():
    with pytest.raises(TypeError, match="epochs"):
        _call(epochs=10)

