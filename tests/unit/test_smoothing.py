"""Tests for xenthelpers.targets.smoothing."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.targets import ordinal_smooth_labels, smooth_labels

FEW = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------- smooth_labels


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.37, 1.0])
@pytest.mark.parametrize("num_classes", [1, 2, 7])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_matches_builtin_label_smoothing(alpha, num_classes, reduction):
    gen = torch.Generator().manual_seed(num_classes)
    logits = torch.randn(11, num_classes, generator=gen, dtype=torch.float64)
    target = torch.randint(num_classes, (11,), generator=gen)
    ours = F.cross_entropy(logits, smooth_labels(target, num_classes, alpha, dtype=torch.float64),
                           reduction=reduction)
    builtin = F.cross_entropy(logits, target, label_smoothing=alpha, reduction=reduction)
    torch.testing.assert_close(ours, builtin, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_builtin_label_smoothing_spatial(reduction):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 4, 6, generator=gen)
    target = torch.randint(5, (3, 4, 6), generator=gen)
    smoothed = smooth_labels(target, 5, 0.2)
    assert smoothed.shape == (3, 5, 4, 6)
    torch.testing.assert_close(
        F.cross_entropy(logits, smoothed, reduction=reduction),
        F.cross_entropy(logits, target, label_smoothing=0.2, reduction=reduction),
    )


def test_values_and_layout():
    smoothed = smooth_labels(torch.tensor([2, 0]), 4, 0.4)
    expected = torch.tensor([[0.1, 0.1, 0.7, 0.1], [0.7, 0.1, 0.1, 0.1]])
    torch.testing.assert_close(smoothed, expected)
    assert smoothed.dtype == torch.float32


def test_alpha_zero_is_one_hot_and_one_is_uniform():
    target = torch.tensor([0, 3, 1])
    torch.testing.assert_close(smooth_labels(target, 4, 0.0), F.one_hot(target, 4).float())
    torch.testing.assert_close(smooth_labels(target, 4, 1.0), torch.full((3, 4), 0.25))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_dtype_device_and_integer_kinds(device, dtype):
    target = torch.tensor([1, 0], dtype=torch.int32, device=device)
    smoothed = smooth_labels(target, 3, 0.3, dtype=dtype)
    assert smoothed.dtype == dtype and smoothed.device.type == device
    row_sums = smoothed.sum(dim=1).double().cpu()
    torch.testing.assert_close(row_sums, torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-3)


@FEW
@given(
    num_classes=st.integers(1, 12),
    alpha=st.floats(0.0, 1.0),
    labels=st.lists(st.integers(0, 11), min_size=1, max_size=20),
)
def test_rows_are_distributions_peaked_at_target(num_classes, alpha, labels):
    target = torch.tensor(labels) % num_classes
    smoothed = smooth_labels(target, num_classes, alpha, dtype=torch.float64)
    torch.testing.assert_close(smoothed.sum(dim=1), torch.ones(len(labels), dtype=torch.float64))
    at_target = smoothed.gather(1, target.unsqueeze(1)).squeeze(1)
    peak = 1 - alpha + alpha / num_classes
    torch.testing.assert_close(at_target, torch.full_like(at_target, peak))
    assert bool((smoothed <= at_target.unsqueeze(1)).all())
    assert float(smoothed.min()) == pytest.approx(alpha / num_classes if num_classes > 1 else 1.0)


# -------------------------------------------------------- ordinal_smooth_labels


def test_ordinal_hand_computed_triangular():
    # width 2: weights 3, 2, 1 at distances 0, 1, 2.
    smoothed = ordinal_smooth_labels(torch.tensor([0, 3]), 6, 0.5, width=2, dtype=torch.float64)
    expected = torch.tensor(
        [
            [0.5 + 0.5 * 3 / 6, 0.5 * 2 / 6, 0.5 * 1 / 6, 0, 0, 0],
            [0, 0.5 * 1 / 9, 0.5 * 2 / 9, 0.5 + 0.5 * 3 / 9, 0.5 * 2 / 9, 0.5 * 1 / 9],
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(smoothed, expected)


def test_ordinal_hand_computed_uniform():
    smoothed = ordinal_smooth_labels(torch.tensor([4]), 5, 0.3, kernel="uniform", width=1)
    torch.testing.assert_close(smoothed, torch.tensor([[0, 0, 0, 0.15, 0.85]]))


@pytest.mark.parametrize("num_classes", [1, 2, 6])
def test_ordinal_uniform_full_width_is_label_smoothing(num_classes):
    target = torch.arange(num_classes).repeat(2)
    torch.testing.assert_close(
        ordinal_smooth_labels(target, num_classes, 0.3, kernel="uniform", width=num_classes + 3),
        smooth_labels(target, num_classes, 0.3),
    )


def test_ordinal_spatial_layout_matches_flat_rows():
    target = torch.randint(7, (2, 3, 4), generator=torch.Generator().manual_seed(1))
    spatial = ordinal_smooth_labels(target, 7, 0.25, width=3)
    flat = ordinal_smooth_labels(target.reshape(-1), 7, 0.25, width=3)
    assert spatial.shape == (2, 7, 3, 4)
    torch.testing.assert_close(spatial.movedim(1, -1).reshape(-1, 7), flat)
    assert spatial.is_contiguous()


@FEW
@given(
    num_classes=st.integers(1, 10),
    alpha=st.floats(0.0, 1.0),
    width=st.integers(1, 12),
    kernel=st.sampled_from(["triangular", "uniform"]),
    labels=st.lists(st.integers(0, 9), min_size=1, max_size=10),
)
def test_ordinal_properties(num_classes, alpha, width, kernel, labels):
    target = torch.tensor(labels) % num_classes
    smoothed = ordinal_smooth_labels(
        target, num_classes, alpha, kernel=kernel, width=width, dtype=torch.float64
    )
    torch.testing.assert_close(smoothed.sum(dim=1), torch.ones(len(labels), dtype=torch.float64))
    assert bool((smoothed >= 0).all())
    distance = (torch.arange(num_classes) - target.unsqueeze(1)).abs()
    assert bool((smoothed[distance > width] == 0).all())
    # Non-increasing in rank distance, across both sides of the true rank (peak included).
    closer = distance.unsqueeze(2) < distance.unsqueeze(1)
    gaps = smoothed.unsqueeze(2) - smoothed.unsqueeze(1)
    assert bool((gaps[closer] >= -1e-12).all())
    at_target = smoothed.gather(1, target.unsqueeze(1)).squeeze(1)
    if alpha < 1:
        others = smoothed.masked_fill(distance == 0, -1.0)
        assert bool((others.amax(dim=1) < at_target).all())


def test_ordinal_alpha_zero_is_one_hot():
    target = torch.tensor([0, 2, 4])
    for kernel in ("triangular", "uniform"):
        torch.testing.assert_close(
            ordinal_smooth_labels(target, 5, 0.0, kernel=kernel, width=3),
            F.one_hot(target, 5).float(),
        )


def test_ordinal_cross_entropy_penalises_distant_ranks_more():
    # Predicting a neighbouring rank costs less than predicting a distant one.
    target = ordinal_smooth_labels(torch.tensor([2]), 5, 0.3, width=1)
    near = F.cross_entropy(torch.tensor([[0.0, 0, 0, 5, 0]]), target)
    far = F.cross_entropy(torch.tensor([[0.0, 0, 0, 0, 5]]), target)
    assert float(near) < float(far)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("func", [smooth_labels, ordinal_smooth_labels])
class TestValidation:
    def test_alpha_out_of_range(self, func):
        for alpha in (-0.1, 1.5, float("nan")):
            with pytest.raises(ValueError, match="alpha"):
                func(torch.tensor([0]), 3, alpha)

    def test_num_classes(self, func):
        for num_classes in (0, -2, 2.0, True):
            with pytest.raises(ValueError, match="num_classes"):
                func(torch.tensor([0]), num_classes, 0.1)

    def test_target_out_of_range(self, func):
        with pytest.raises(ValueError, match="target"):
            func(torch.tensor([0, 3]), 3, 0.1)
        with pytest.raises(ValueError, match="target"):
            func(torch.tensor([-1, 0]), 3, 0.1)

    def test_target_not_integer(self, func):
        with pytest.raises(ValueError, match="target"):
            func(torch.tensor([0.0, 1.0]), 3, 0.1)

    def test_target_zero_dim(self, func):
        with pytest.raises(ValueError, match="target"):
            func(torch.tensor(1), 3, 0.1)

    def test_dtype_not_floating(self, func):
        with pytest.raises(ValueError, match="dtype"):
            func(torch.tensor([1]), 3, 0.1, dtype=torch.long)


def test_ordinal_kernel_and_width_validated():
    with pytest.raises(ValueError, match="kernel"):
        ordinal_smooth_labels(torch.tensor([1]), 3, 0.1, kernel="gaussian")
    for width in (0, -1, 1.5):
        with pytest.raises(ValueError, match="width"):
            ordinal_smooth_labels(torch.tensor([1]), 3, 0.1, width=width)


@pytest.mark.parametrize("device", DEVICES)
def test_target_out_of_range_raises_value_error_on_every_device(device):
    with pytest.raises(ValueError, match="target"):
        smooth_labels(torch.tensor([5], device=device), 3, 0.1)


# --------------------------------------------------------------- validate_args

BUILDERS = {
    "smooth_labels": lambda target, **kw: smooth_labels(target, 5, 0.3, **kw),
    "ordinal_smooth_labels": lambda target, **kw: ordinal_smooth_labels(
        target, 5, 0.3, width=2, **kw
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_without_validation_the_rows_are_the_same(name, shape, dtype):
    target = torch.randint(5, shape, generator=torch.Generator().manual_seed(2))
    build = BUILDERS[name]
    assert torch.equal(
        build(target, dtype=dtype, validate_args=False),
        build(target, dtype=dtype, validate_args=True),
    )


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_runs_on_the_meta_device_without_validation(name):
    target = torch.empty(2, 3, 4, dtype=torch.long, device="meta")
    rows = BUILDERS[name](target, validate_args=False)
    assert rows.device.type == "meta" and rows.shape == (2, 5, 3, 4)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_without_validation_only_the_value_checks_are_skipped(name):
    build = BUILDERS[name]
    # An index out of range is not read: its row does not sum to one, and nothing fails.
    rows = build(torch.tensor([1, 9]), validate_args=False)
    assert float(rows[0].sum()) == pytest.approx(1.0)
    assert float(rows[1].sum()) != pytest.approx(1.0)
    with pytest.raises(ValueError, match="target"):
        build(torch.tensor([1.0, 2.0]), validate_args=False)
    with pytest.raises(ValueError, match="target"):
        build(torch.tensor(1), validate_args=False)
    with pytest.raises(ValueError, match="dtype"):
        build(torch.tensor([1]), dtype=torch.long, validate_args=False)
    func = smooth_labels if name == "smooth_labels" else ordinal_smooth_labels
    with pytest.raises(ValueError, match="alpha"):
        func(torch.tensor([1]), 3, 1.5, validate_args=False)
    with pytest.raises(ValueError, match="alpha"):
        func(torch.tensor([1]), 3, "0.1", validate_args=False)
    with pytest.raises(ValueError, match="num_classes"):
        func(torch.tensor([1]), True, 0.1, validate_args=False)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_value_checks_name_the_argument_with_validation(name):
    with pytest.raises(ValueError, match="`target`"):
        BUILDERS[name](torch.tensor([[0, 5], [1, 2]]), validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(name, validate_args, most):
    target = torch.randint(5, (64, 8), device="cuda")
    build = BUILDERS[name]
    assert cuda_synchronisations(lambda: build(target, validate_args=validate_args)) <= most
