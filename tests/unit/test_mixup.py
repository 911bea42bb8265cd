"""Tests for xenthelpers.targets.mixup."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.targets import MixupBatch, mixup, smooth_labels


def _batch(n=8, k=5, seed=0, dtype=torch.float32, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 4, generator=gen, dtype=dtype).to(device)
    labels = torch.randint(k, (n,), generator=gen).to(device)
    return inputs, labels, F.one_hot(labels, k).to(dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mixes_inputs_and_targets_with_returned_lambda_and_index(device, dtype):
    inputs, _, targets = _batch(dtype=dtype, device=device)
    batch = mixup(inputs, targets, alpha=0.4, generator=torch.Generator().manual_seed(3))
    assert isinstance(batch, MixupBatch)
    assert isinstance(batch.lam, float) and 0.0 <= batch.lam <= 1.0
    assert batch.index.dtype == torch.long and batch.index.device == inputs.device
    assert torch.equal(batch.index.sort().values.cpu(), torch.arange(8))
    lam, index = batch.lam, batch.index
    torch.testing.assert_close(batch.inputs, lam * inputs + (1 - lam) * inputs[index])
    torch.testing.assert_close(batch.targets, lam * targets + (1 - lam) * targets[index])
    assert batch.inputs.dtype == dtype and batch.targets.dtype == dtype
    torch.testing.assert_close(batch.targets.sum(dim=1), torch.ones(8, dtype=dtype, device=device))


def test_cross_entropy_of_mixed_targets_is_mixed_cross_entropy():
    inputs, labels, targets = _batch(n=16, dtype=torch.float64)
    batch = mixup(inputs, targets, generator=torch.Generator().manual_seed(5))
    logits = torch.randn(16, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    expected = batch.lam * F.cross_entropy(logits, labels) + (1 - batch.lam) * F.cross_entropy(
        logits, labels[batch.index]
    )
    torch.testing.assert_close(F.cross_entropy(logits, batch.targets), expected)


def test_same_seed_same_batch_and_different_seed_different_batch():
    inputs, _, targets = _batch(n=32)
    first = mixup(inputs, targets, generator=torch.Generator().manual_seed(11))
    again = mixup(inputs, targets, generator=torch.Generator().manual_seed(11))
    other = mixup(inputs, targets, generator=torch.Generator().manual_seed(12))
    assert first.lam == again.lam
    assert torch.equal(first.index, again.index)
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)
    assert first.lam != other.lam
    assert not torch.equal(first.index, other.index)


def test_global_generator_is_used_when_none_is_given():
    inputs, _, targets = _batch()
    torch.manual_seed(123)
    first = mixup(inputs, targets)
    torch.manual_seed(123)
    again = mixup(inputs, targets)
    assert first.lam == again.lam and torch.equal(first.index, again.index)


def test_successive_calls_on_one_generator_differ():
    inputs, _, targets = _batch(n=32)
    gen = torch.Generator().manual_seed(0)
    first, second = mixup(inputs, targets, generator=gen), mixup(inputs, targets, generator=gen)
    assert first.lam != second.lam


@pytest.mark.parametrize("alpha", [0.2, 1.0, 4.0])
def test_lambda_follows_beta_distribution(alpha):
    inputs, _, targets = _batch(n=2)
    gen = torch.Generator().manual_seed(2024)
    lams = [mixup(inputs, targets, alpha=alpha, generator=gen).lam for _ in range(1500)]
    # Fixed seed: deterministic; a wrong distribution gives a p-value far below this.
    assert stats.kstest(lams, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


def test_permutation_is_uniform_enough():
    # Every example is paired with every position over many draws.
    inputs, _, targets = _batch(n=4)
    gen = torch.Generator().manual_seed(1)
    hits = torch.zeros(4, 4)
    for _ in range(400):
        index = mixup(inputs, targets, generator=gen).index
        hits[torch.arange(4), index] += 1
    assert bool((hits > 60).all())


def test_spatial_probability_targets_and_smoothed_targets():
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(4, 3, 5, 5, generator=gen)
    labels = torch.randint(6, (4, 5, 5), generator=gen)
    targets = smooth_labels(labels, 6, 0.1)
    batch = mixup(inputs, targets, generator=gen)
    assert batch.targets.shape == (4, 6, 5, 5)
    torch.testing.assert_close(batch.targets.sum(dim=1), torch.ones(4, 5, 5))


def test_gradient_flows_to_inputs():
    inputs, _, targets = _batch(n=6, dtype=torch.float64)
    inputs.requires_grad_(True)

    def mixed(x):
        return mixup(x, targets, generator=torch.Generator().manual_seed(9)).inputs

    assert torch.autograd.gradcheck(mixed, (inputs,))


# ------------------------------------------------------------------ validation


def test_class_index_targets_are_rejected_with_advice():
    inputs, labels, _ = _batch()
    with pytest.raises(ValueError, match="targets.*one_hot"):
        mixup(inputs, labels)


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf")])
def test_alpha_must_be_positive(alpha):
    inputs, _, targets = _batch()
    with pytest.raises(ValueError, match="alpha"):
        mixup(inputs, targets, alpha=alpha)


def test_batch_sizes_must_match():
    inputs, _, targets = _batch()
    with pytest.raises(ValueError, match="targets"):
        mixup(inputs, targets[:-1])


def test_targets_must_be_probability_rows():
    inputs, _, targets = _batch()
    with pytest.raises(ValueError, match="targets"):
        mixup(inputs, 2 * targets)
    with pytest.raises(ValueError, match="targets"):
        mixup(inputs, targets - 0.5 * targets.roll(1, dims=1) + 0.5 * targets)
    with pytest.raises(ValueError, match="targets"):
        mixup(inputs, targets[:, 0])


def test_inputs_must_be_finite_floating_batch():
    inputs, _, targets = _batch()
    with pytest.raises(ValueError, match="inputs"):
        mixup(inputs.long(), targets)
    bad = inputs.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="inputs"):
        mixup(bad, targets)
    with pytest.raises(ValueError, match="inputs"):
        mixup(torch.tensor(1.0), targets)
    with pytest.raises(ValueError, match="inputs"):
        mixup(torch.zeros(0, 3), torch.zeros(0, 5))


# --------------------------------------------------------------- validate_args


def test_without_validation_the_batch_is_the_same():
    inputs, _, targets = _batch(n=16, dtype=torch.float64)
    checked = mixup(inputs, targets, alpha=0.4, generator=torch.Generator().manual_seed(8))
    unchecked = mixup(
        inputs, targets, alpha=0.4, generator=torch.Generator().manual_seed(8), validate_args=False
    )
    assert unchecked.lam == checked.lam and torch.equal(unchecked.index, checked.index)
    assert torch.equal(unchecked.inputs, checked.inputs)
    assert torch.equal(unchecked.targets, checked.targets)


def test_runs_on_the_meta_device_without_validation():
    inputs = torch.empty(8, 3, 4, device="meta")
    targets = torch.empty(8, 5, device="meta")
    batch = mixup(inputs, targets, generator=torch.Generator().manual_seed(0), validate_args=False)
    assert batch.inputs.device.type == "meta" and batch.inputs.shape == (8, 3, 4)
    assert batch.targets.device.type == "meta" and batch.targets.shape == (8, 5)
    assert batch.index.device.type == "meta" and 0.0 <= batch.lam <= 1.0


def test_without_validation_only_the_value_checks_are_skipped():
    inputs, labels, targets = _batch()
    bad = inputs.clone()
    bad[0, 0, 0] = float("nan")
    mixup(bad, 2 * targets, validate_args=False)  # values are not read
    with pytest.raises(ValueError, match=r"targets.*one_hot"):
        mixup(inputs, labels, validate_args=False)
    with pytest.raises(ValueError, match="targets"):
        mixup(inputs, targets[:-1], validate_args=False)
    with pytest.raises(ValueError, match="inputs"):
        mixup(inputs.long(), targets, validate_args=False)
    for alpha in (0.0, float("inf"), True, "1"):
        with pytest.raises(ValueError, match="alpha"):
            mixup(inputs, targets, alpha=alpha, validate_args=False)


def test_value_checks_name_the_argument_with_validation():
    inputs, _, targets = _batch()
    bad = inputs.clone()
    bad[1, 2, 3] = float("inf")
    with pytest.raises(ValueError, match="`inputs`"):
        mixup(bad, targets, validate_args=True)
    with pytest.raises(ValueError, match="`targets`"):
        mixup(inputs, 2 * targets, validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("generator_device", ["cpu", "cuda"])
@pytest.mark.parametrize("validate_args, most", [(False, 1), (True, 2)])
def test_host_synchronisations_per_call(generator_device, validate_args, most):
    # Drawing the batch needs the host once (lambda is a Python float); the checks once more.
    inputs, _, targets = _batch(device="cuda")
    generator = torch.Generator(device=generator_device).manual_seed(0)
    reads = cuda_synchronisations(
        lambda: mixup(inputs, targets, generator=generator, validate_args=validate_args)
    )
    assert reads <= most
