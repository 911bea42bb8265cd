"""Tests for xenthelpers.metrics.calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from torchmetrics.functional.classification import (
    binary_calibration_error,
    multiclass_calibration_error,
)

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.metrics import ReliabilityCurve, expected_calibration_error, reliability_curve

NORMS = ["l1", "l2", "max"]
FEW = settings(max_examples=40, deadline=None)


def _multiclass(n=500, k=6, seed=0, sharpness=2.0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    probs = torch.softmax(sharpness * torch.randn(n, k, generator=gen, dtype=dtype), dim=1)
    target = torch.randint(k, (n,), generator=gen)
    return probs, target


# ----------------------------------------------------------- cross-checks


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n_bins", [1, 2, 10, 15, 33])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_torchmetrics_multiclass(norm, n_bins, seed):
    probs, target = _multiclass(seed=seed, k=3 + 4 * seed)
    ours = expected_calibration_error(probs, target, n_bins=n_bins, norm=norm)
    theirs = multiclass_calibration_error(probs, target, probs.shape[1], n_bins=n_bins, norm=norm)
    torch.testing.assert_close(ours, theirs.to(ours.dtype), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n_bins", [1, 5, 15])
def test_matches_torchmetrics_binary(norm, n_bins):
    gen = torch.Generator().manual_seed(7)
    probs = torch.rand(400, generator=gen)
    target = torch.bernoulli(probs.sqrt(), generator=gen).long()
    ours = expected_calibration_error(probs, target, n_bins=n_bins, norm=norm)
    theirs = binary_calibration_error(probs, target, n_bins=n_bins, norm=norm)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_bins", [4, 10, 15])
def test_confidences_on_inner_edges_fall_in_the_same_bins_as_torchmetrics(n_bins):
    edges = torch.linspace(0, 1, n_bins + 1)[:-1]  # every edge except 1.0, 0 included
    probs = edges.repeat_interleave(3)
    target = torch.tensor([0, 1, 1]).repeat(n_bins)
    curve = reliability_curve(probs, target, n_bins=n_bins)
    assert torch.equal(curve.count, torch.full((n_bins,), 3))
    torch.testing.assert_close(curve.confidence, edges)
    for norm in NORMS:
        torch.testing.assert_close(
            expected_calibration_error(probs, target, n_bins=n_bins, norm=norm),
            binary_calibration_error(probs, target, n_bins=n_bins, norm=norm),
        )


def test_confidence_one_joins_the_last_bin_unlike_torchmetrics():
    # The one documented difference: torchmetrics gives confidence 1.0 a bin of its own.
    probs = torch.tensor([1.0, 0.95])
    target = torch.tensor([0, 1])
    curve = reliability_curve(probs, target, n_bins=10)
    assert int(curve.count[-1]) == 2
    # One bin: mean confidence 0.975, accuracy 0.5.
    torch.testing.assert_close(expected_calibration_error(probs, target, n_bins=10),
                               torch.tensor(0.475))
    # Two bins: 0.5 * |0 - 1| + 0.5 * |1 - 0.95|.
    torch.testing.assert_close(binary_calibration_error(probs, target, n_bins=10),
                               torch.tensor(0.525))


def test_reliability_curve_matches_sklearn_calibration_curve():
    rng = np.random.default_rng(3)
    probs = rng.uniform(size=2000) ** 2
    target = rng.binomial(1, np.sqrt(probs))
    curve = reliability_curve(torch.from_numpy(probs), torch.from_numpy(target), n_bins=12)
    prob_true, prob_pred = calibration_curve(target, probs, n_bins=12, strategy="uniform")
    occupied = curve.count > 0
    np.testing.assert_allclose(curve.accuracy[occupied].numpy(), prob_true, rtol=1e-12)
    np.testing.assert_allclose(curve.confidence[occupied].numpy(), prob_pred, rtol=1e-12)


# ------------------------------------------------------------ definitions


def test_hand_computed_example():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    target = torch.tensor([0, 1, 1, 0])
    # Bin [0.5, 0.75): conf 0.65, acc 0.5; bin [0.75, 1]: conf 0.85, acc 0.5.
    ece = expected_calibration_error(probs, target, n_bins=4)
    rms = expected_calibration_error(probs, target, n_bins=4, norm="l2")
    mce = expected_calibration_error(probs, target, n_bins=4, norm="max")
    torch.testing.assert_close(ece, torch.tensor(0.25))
    torch.testing.assert_close(rms, torch.tensor(math.sqrt(0.5 * 0.15**2 + 0.5 * 0.35**2)))
    torch.testing.assert_close(mce, torch.tensor(0.35))
    assert ece.dim() == 0


def test_single_bin_is_gap_between_accuracy_and_mean_confidence():
    probs, target = _multiclass(dtype=torch.float64)
    confidence, prediction = probs.max(dim=1)
    gap = ((prediction == target).double().mean() - confidence.mean()).abs()
    for norm in NORMS:
        torch.testing.assert_close(expected_calibration_error(probs, target, n_bins=1, norm=norm),
                                   gap)


def test_perfectly_calibrated_bins_give_zero():
    probs = torch.tensor([0.7] * 10 + [0.2] * 5)
    target = torch.tensor([1] * 7 + [0] * 3 + [1] + [0] * 4)
    for norm in NORMS:
        assert float(expected_calibration_error(probs, target, norm=norm)) == pytest.approx(
            0.0, abs=1e-7
        )


def test_binary_input_is_positive_class_calibration_not_top_label():
    probs = torch.tensor([0.2, 0.2, 0.9])
    target = torch.tensor([0, 1, 1])
    positive = expected_calibration_error(probs, target, n_bins=1)
    top_label = expected_calibration_error(torch.stack([1 - probs, probs], dim=1), target,
                                           n_bins=1)
    torch.testing.assert_close(positive, torch.tensor(abs(2 / 3 - 1.3 / 3)))
    torch.testing.assert_close(top_label, torch.tensor(abs(2 / 3 - 2.5 / 3)))


@FEW
@given(
    n=st.integers(1, 60),
    k=st.integers(1, 6),
    n_bins=st.integers(1, 20),
    seed=st.integers(0, 2**16),
    sharpness=st.floats(0.0, 10.0),
)
def test_properties(n, k, n_bins, seed, sharpness):
    probs, target = _multiclass(n=n, k=k, seed=seed, sharpness=sharpness, dtype=torch.float64)
    l1, l2, worst = (
        float(expected_calibration_error(probs, target, n_bins=n_bins, norm=norm))
        for norm in NORMS
    )
    # Weighted mean <= weighted root-mean-square <= maximum, all within [0, 1].
    assert 0.0 <= l1 <= l2 + 1e-12 <= worst + 2e-12 <= 1.0 + 2e-12
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    shuffled = float(expected_calibration_error(probs[perm], target[perm], n_bins=n_bins))
    assert shuffled == pytest.approx(l1, abs=1e-12)
    curve = reliability_curve(probs, target, n_bins=n_bins)
    assert int(curve.count.sum()) == n
    weights = curve.count.double() / n
    assert float((weights * (curve.accuracy - curve.confidence).abs()).nansum()) == pytest.approx(
        l1, abs=1e-12
    )
    occupied = curve.count > 0
    assert bool(curve.confidence[occupied].ge(curve.bin_edges[:-1][occupied] - 1e-12).all())
    assert bool(curve.confidence[occupied].le(curve.bin_edges[1:][occupied] + 1e-12).all())
    assert bool(curve.confidence[~occupied].isnan().all())
    assert bool(curve.accuracy[~occupied].isnan().all())


def test_reliability_curve_fields_dtypes_and_edges():
    probs, target = _multiclass(dtype=torch.float64)
    curve = reliability_curve(probs, target, n_bins=8)
    assert isinstance(curve, ReliabilityCurve)
    torch.testing.assert_close(curve.bin_edges, torch.linspace(0, 1, 9, dtype=torch.float64))
    assert curve.confidence.shape == curve.accuracy.shape == curve.count.shape == (8,)
    assert curve.count.dtype == torch.long and curve.confidence.dtype == torch.float64


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_preserved_and_no_gradient(device, dtype):
    probs, target = _multiclass(dtype=dtype)
    probs, target = probs.to(device).requires_grad_(True), target.to(device)
    ece = expected_calibration_error(probs, target)
    assert ece.dtype == dtype and ece.device.type == device and not ece.requires_grad
    reference = expected_calibration_error(probs.detach().cpu(), target.cpu())
    torch.testing.assert_close(ece.cpu(), reference)


def test_confidence_zero_and_one_are_binned():
    curve = reliability_curve(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), n_bins=3)
    assert curve.count.tolist() == [1, 0, 1]
    assert float(expected_calibration_error(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]))) == 0


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("func", [expected_calibration_error, reliability_curve])
class TestValidation:
    def test_n_bins(self, func):
        probs, target = _multiclass(n=5)
        for n_bins in (0, -3, 2.5, True):
            with pytest.raises(ValueError, match="n_bins"):
                func(probs, target, n_bins=n_bins)

    def test_rows_must_sum_to_one(self, func):
        probs, target = _multiclass(n=5)
        with pytest.raises(ValueError, match="probs"):
            func(probs * 1.01, target)

    def test_probs_non_negative(self, func):
        probs = torch.tensor([[1.2, -0.2], [0.5, 0.5]])
        with pytest.raises(ValueError, match="probs"):
            func(probs, torch.tensor([0, 1]))

    def test_probs_nan(self, func):
        probs, target = _multiclass(n=5)
        probs[2, 1] = float("nan")
        with pytest.raises(ValueError, match="probs"):
            func(probs, target)

    def test_probs_shape_and_dtype(self, func):
        with pytest.raises(ValueError, match="probs"):
            func(torch.full((2, 2, 2), 0.5), torch.tensor([0, 1]))
        with pytest.raises(ValueError, match="probs"):
            func(torch.tensor([[1, 0]]), torch.tensor([0]))
        with pytest.raises(ValueError, match="probs"):
            func(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))

    def test_target_shape(self, func):
        probs, target = _multiclass(n=5)
        with pytest.raises(ValueError, match="target"):
            func(probs, target[:4])
        with pytest.raises(ValueError, match="target"):
            func(probs, target.unsqueeze(1))

    def test_target_out_of_range(self, func):
        probs, target = _multiclass(n=5, k=3)
        target[0] = 3
        with pytest.raises(ValueError, match="target"):
            func(probs, target)

    def test_target_not_integer(self, func):
        probs, target = _multiclass(n=5)
        with pytest.raises(ValueError, match="target"):
            func(probs, target.float())

    def test_binary_probs_outside_unit_interval(self, func):
        for bad in (1.5, -0.1, float("nan")):
            with pytest.raises(ValueError, match="probs"):
                func(torch.tensor([0.5, bad]), torch.tensor([0, 1]))

    def test_binary_targets_must_be_zero_or_one(self, func):
        with pytest.raises(ValueError, match="target"):
            func(torch.tensor([0.5, 0.2]), torch.tensor([0, 2]))

    def test_binary_empty(self, func):
        with pytest.raises(ValueError, match="probs"):
            func(torch.zeros(0), torch.zeros(0, dtype=torch.long))


def test_norm_validated():
    probs, target = _multiclass(n=5)
    with pytest.raises(ValueError, match="norm"):
        expected_calibration_error(probs, target, norm="l3")


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_range_target_raises_value_error_on_every_device(device):
    probs, target = _multiclass(n=5, k=3)
    target[1] = 7
    with pytest.raises(ValueError, match="target"):
        expected_calibration_error(probs.to(device), target.to(device))


# --------------------------------------------------------------- validate_args


def _layout(layout, device="cpu"):
    if layout == "rows":
        probs, target = _multiclass(n=200, k=4, seed=5)
    else:
        gen = torch.Generator().manual_seed(5)
        probs = torch.rand(200, generator=gen)
        target = torch.bernoulli(probs, generator=gen).long()
    return probs.to(device), target.to(device)


LAYOUTS = ["rows", "positive-class"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", NORMS)
def test_without_validation_the_value_is_the_same(layout, norm):
    probs, target = _layout(layout)
    torch.testing.assert_close(
        expected_calibration_error(probs, target, norm=norm, validate_args=False),
        expected_calibration_error(probs, target, norm=norm, validate_args=True),
        rtol=0,
        atol=0,
    )
    for unchecked, checked in zip(
        reliability_curve(probs, target, n_bins=9, validate_args=False),
        reliability_curve(probs, target, n_bins=9, validate_args=True),
        strict=True,
    ):
        torch.testing.assert_close(unchecked, checked, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_runs_on_the_meta_device_without_validation(layout):
    probs, target = _layout(layout, device="meta")
    ece = expected_calibration_error(probs, target, norm="max", validate_args=False)
    assert ece.device.type == "meta" and ece.shape == ()
    curve = reliability_curve(probs, target, n_bins=7, validate_args=False)
    assert all(field.device.type == "meta" for field in curve)
    assert curve.count.shape == (7,) and curve.bin_edges.shape == (8,)


@pytest.mark.parametrize("func", [expected_calibration_error, reliability_curve])
def test_without_validation_only_the_value_checks_are_skipped(func):
    probs, target = _multiclass(n=5, k=3)
    func(probs * 1.01, target, validate_args=False)  # rows off by 1%: not read
    func(probs, target + 3, validate_args=False)  # labels out of range: not read
    func(torch.tensor([0.5, 1.5]), torch.tensor([0, 2]), validate_args=False)
    with pytest.raises(ValueError, match="target"):
        func(probs, target[:4], validate_args=False)
    with pytest.raises(ValueError, match="target"):
        func(probs, target.float(), validate_args=False)
    with pytest.raises(ValueError, match="probs"):
        func(torch.zeros(0), torch.zeros(0, dtype=torch.long), validate_args=False)
    with pytest.raises(ValueError, match="n_bins"):
        func(probs, target, n_bins=True, validate_args=False)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("func", [expected_calibration_error, reliability_curve])
def test_value_checks_name_the_argument_with_validation(layout, func):
    probs, target = _layout(layout)
    bad_probs = probs.clone()
    bad_probs[3] = 2.0
    with pytest.raises(ValueError, match="`probs`"):
        func(bad_probs, target, validate_args=True)
    bad_target = target.clone()
    bad_target[3] = 4 if layout == "rows" else 2
    with pytest.raises(ValueError, match="`target`"):
        func(probs, bad_target, validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("func", [expected_calibration_error, reliability_curve])
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(layout, func, validate_args, most):
    probs, target = _layout(layout, device="cuda")
    reads = cuda_synchronisations(lambda: func(probs, target, validate_args=validate_args))
    assert reads <= most
