"""The mixed-type reconstruction loss: a factorised negative log-likelihood."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Categorical, Normal

from tests.unit.devices import DEVICES
from xenthelpers.losses.mixed_type import (
    ColumnSpec,
    MixedSchema,
    MixedTypeNLL,
    MixedTypeNLLLoss,
    mixed_type_nll,
)

REDUCTIONS = ["mean", "sum", "none"]

# Column types interleaved, two categorical sizes, continuous scales != 1.
SCHEMA = MixedSchema([
    ColumnSpec.categorical(3, "colour"),
    ColumnSpec.binary("smoker"),
    ColumnSpec.continuous(scale=2.0, name="height"),
    ColumnSpec.categorical(5, "region"),
    ColumnSpec.binary("owner"),
    ColumnSpec.continuous(scale=0.3, name="ratio"),
    ColumnSpec.categorical(3, "size"),
])


def _batch(schema=SCHEMA, rows=8, extra=(), seed=0, dtype=torch.float64, spread=3.0):
    """Random outputs and a valid target table of shape (rows, C, *extra)."""
    g = torch.Generator().manual_seed(seed)
    outputs = spread * torch.randn(rows, schema.num_outputs, *extra, generator=g, dtype=dtype)
    columns = []
    for column in schema.columns:
        shape = (rows, 1, *extra)
        if column.kind == "binary":
            value = torch.randint(0, 2, shape, generator=g).to(dtype)
        elif column.kind == "continuous":
            value = 5 * torch.randn(shape, generator=g, dtype=dtype)
        else:
            value = torch.randint(0, column.num_classes, shape, generator=g).to(dtype)
        columns.append(value)
    return outputs, torch.cat(columns, dim=1)


def _reference(outputs, target, schema, log_scale=None):
    """Per-type -log p summed over columns, with torch.distributions, shape (N, *)."""
    terms = {kind: torch.zeros_like(target[:, 0]) for kind in ("binary", "continuous",
                                                               "categorical")}
    continuous = 0
    for j, (column, where) in enumerate(zip(schema.columns, schema.output_slices)):
        params, x = outputs[:, where], target[:, j]
        if column.kind == "binary":
            log_p = Bernoulli(logits=params[:, 0]).log_prob(x)
        elif column.kind == "continuous":
            if log_scale is None:
                sigma = torch.full_like(x, column.scale)
            else:
                full = log_scale.expand(x.shape[0], schema.count("continuous"), *x.shape[1:])
                sigma = full[:, continuous].exp()
            continuous += 1
            log_p = Normal(params[:, 0], sigma).log_prob(x)
        else:
            log_p = Categorical(logits=params.movedim(1, -1)).log_prob(x.long())
        terms[column.kind] = terms[column.kind] - log_p
    return terms


# --- the likelihood identity ---------------------------------------------------------------


@settings(max_examples=30)
@given(seed=st.integers(0, 2**16), extra=st.sampled_from([(), (3,), (2, 2)]))
def test_equals_the_negative_log_likelihood_of_torch_distributions(seed, extra):
    outputs, target = _batch(seed=seed, extra=extra)
    ours = mixed_type_nll(outputs, target, SCHEMA, reduction="none")
    reference = _reference(outputs, target, SCHEMA)
    for kind, expected in reference.items():
        torch.testing.assert_close(getattr(ours, kind), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.total, sum(reference.values()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "extra, shape",
    [((), (2,)), ((), (1, 2)), ((), (8, 2)),
     ((3,), (2, 1)), ((3,), (2, 3)), ((3,), (8, 2, 1)), ((3,), (8, 2, 3))],
)
def test_log_scale_per_column_or_per_row(extra, shape):
    outputs, target = _batch(extra=extra)
    log_scale = torch.randn(shape, generator=torch.Generator().manual_seed(1),
                            dtype=torch.float64)
    ours = mixed_type_nll(outputs, target, SCHEMA, log_scale=log_scale, reduction="none")
    expected = _reference(outputs, target, SCHEMA, log_scale=log_scale)["continuous"]
    torch.testing.assert_close(ours.continuous, expected, rtol=1e-12, atol=1e-12)


def test_log_scale_matching_the_fixed_scales_changes_nothing():
    outputs, target = _batch()
    fixed = mixed_type_nll(outputs, target, SCHEMA)
    log_scale = torch.tensor(SCHEMA.scales, dtype=torch.float64).log()
    learned = mixed_type_nll(outputs, target, SCHEMA, log_scale=log_scale)
    torch.testing.assert_close(learned.total, fixed.total, rtol=1e-14, atol=0)


def test_unit_gaussian_term_is_half_the_squared_error_plus_a_constant():
    schema = MixedSchema([ColumnSpec.continuous(), ColumnSpec.continuous()])
    outputs, target = _batch(schema, rows=50)
    nll = mixed_type_nll(outputs, target, schema, reduction="sum").continuous
    mse = F.mse_loss(outputs, target, reduction="sum")
    torch.testing.assert_close(nll, 0.5 * mse + target.numel() * 0.5 * math.log(2 * math.pi))


def test_changing_units_shifts_the_gaussian_term_by_log_c():
    # Measuring a column in units c times smaller multiplies x, mu and sigma by c.
    schema = MixedSchema([ColumnSpec.continuous(scale=0.7)])
    outputs, target = _batch(schema)
    c = 1000.0
    before = mixed_type_nll(outputs, target, schema, reduction="none").total
    after = mixed_type_nll(c * outputs, c * target, schema.with_scales([0.7 * c]),
                           reduction="none").total
    torch.testing.assert_close(after - before, torch.full_like(before, math.log(c)))


def test_weights_scale_each_type_and_default_to_one():
    outputs, target = _batch()
    plain = mixed_type_nll(outputs, target, SCHEMA)
    weights = {"binary": 0.5, "categorical": 0.0}
    weighted = mixed_type_nll(outputs, target, SCHEMA, weights=weights)
    torch.testing.assert_close(weighted.total, 0.5 * plain.binary + plain.continuous)
    for kind in ("binary", "continuous", "categorical"):  # the terms stay unweighted
        torch.testing.assert_close(getattr(weighted, kind), getattr(plain, kind))
    torch.testing.assert_close(plain.total, plain.binary + plain.continuous + plain.categorical)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_follow_pytorch(reduction):
    outputs, target = _batch(extra=(4,))
    per_row = mixed_type_nll(outputs, target, SCHEMA, reduction="none")
    assert per_row.total.shape == (8, 4)
    reduced = mixed_type_nll(outputs, target, SCHEMA, reduction=reduction)
    assert isinstance(reduced, MixedTypeNLL)
    for ours, rows in zip(reduced, per_row):
        expected = {"none": rows, "sum": rows.sum(), "mean": rows.mean()}[reduction]
        torch.testing.assert_close(ours, expected)


def test_a_type_without_columns_contributes_zero():
    schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.binary()])
    outputs, target = _batch(schema)
    nll = mixed_type_nll(outputs, target, schema, reduction="none")
    assert torch.equal(nll.continuous, torch.zeros(8, dtype=torch.float64))
    assert torch.equal(nll.categorical, torch.zeros(8, dtype=torch.float64))
    expected = F.binary_cross_entropy_with_logits(outputs, target, reduction="none").sum(1)
    torch.testing.assert_close(nll.total, expected)


def test_soft_binary_targets_give_binary_cross_entropy():
    schema = MixedSchema([ColumnSpec.binary()])
    outputs = torch.tensor([[0.3], [-2.0]], dtype=torch.float64)
    target = torch.tensor([[0.25], [0.9]], dtype=torch.float64)
    nll = mixed_type_nll(outputs, target, schema, reduction="none").total
    torch.testing.assert_close(
        nll, F.binary_cross_entropy_with_logits(outputs, target, reduction="none")[:, 0]
    )


def test_module_returns_the_total():
    outputs, target = _batch()
    loss = MixedTypeNLLLoss(SCHEMA, weights={"continuous": 0.1}, reduction="sum")
    expected = mixed_type_nll(outputs, target, SCHEMA, weights={"continuous": 0.1},
                              reduction="sum").total
    torch.testing.assert_close(loss(outputs, target), expected)
    log_scale = torch.zeros(2, dtype=torch.float64)
    torch.testing.assert_close(
        loss(outputs, target, log_scale),
        mixed_type_nll(outputs, target, SCHEMA, log_scale=log_scale,
                       weights={"continuous": 0.1}, reduction="sum").total,
    )
    torch.testing.assert_close(loss(outputs, target, log_scale=log_scale),
                               loss(outputs, target, log_scale))
    assert repr(loss) == (
        "MixedTypeNLLLoss(schema=MixedSchema(binary=2, continuous=2, categorical=3, "
        "num_outputs=15), weights={'continuous': 0.1}, reduction='sum')"
    )


def test_empty_table_is_answered_as_cross_entropy_does():
    outputs, target = _batch(rows=0, extra=(2,))
    for reduction, expected in (("mean", math.nan), ("sum", 0.0)):
        nll = mixed_type_nll(outputs, target, SCHEMA, reduction=reduction)
        for value in nll:
            torch.testing.assert_close(value, torch.tensor(expected, dtype=torch.float64),
                                       equal_nan=True)
    assert mixed_type_nll(outputs, target, SCHEMA, reduction="none").total.shape == (0, 2)


def test_validation_changes_nothing_and_the_module_passes_it_on():
    outputs, target = _batch(extra=(3,))
    log_scale = torch.zeros(2, 1, dtype=torch.float64)
    checked = mixed_type_nll(outputs, target, SCHEMA, log_scale=log_scale, reduction="none")
    unchecked = mixed_type_nll(outputs, target, SCHEMA, log_scale=log_scale, reduction="none",
                               validate_args=False)
    for ours, expected in zip(unchecked, checked):
        torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    module = MixedTypeNLLLoss(SCHEMA, validate_args=False)
    assert module.validate_args is False
    torch.testing.assert_close(module(outputs, target), mixed_type_nll(outputs, target, SCHEMA).total,
                               rtol=0, atol=0)


def test_module_runs_on_the_meta_device_and_compiles_without_validation():
    outputs, target = _batch(extra=(2,))
    log_scale = torch.zeros(2, 1, dtype=torch.float64, requires_grad=True)
    loss = MixedTypeNLLLoss(SCHEMA, weights={"binary": 0.5}, validate_args=False)
    on_meta = loss(outputs.to("meta").requires_grad_(), target.to("meta"), log_scale.to("meta"))
    assert on_meta.device.type == "meta" and on_meta.dim() == 0
    compiled = torch.compile(loss, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(outputs, target, log_scale),
                               loss(outputs, target, log_scale), rtol=0, atol=0)


def test_invalid_level_codes_are_reported_not_indexed():
    outputs, target = _batch(rows=3)
    target[1, 3] = 7.0  # column 3 has 5 levels: cross_entropy would fail on it
    with pytest.raises(ValueError, match=r"column 3 must hold integer level codes in \[0, 5\)"):
        mixed_type_nll(outputs, target, SCHEMA)
    target[1, 3], target[2, 6] = 1.0, -1.0
    with pytest.raises(ValueError, match=r"column 6 must hold integer level codes in \[0, 3\)"):
        mixed_type_nll(outputs, target, SCHEMA)


@pytest.mark.parametrize("device", DEVICES)
def test_same_values_on_every_device(device):
    outputs, target = _batch(extra=(2,))
    expected = mixed_type_nll(outputs, target, SCHEMA, reduction="none")
    moved = mixed_type_nll(outputs.to(device), target.to(device), SCHEMA, reduction="none")
    for ours, reference in zip(moved, expected):
        torch.testing.assert_close(ours.cpu(), reference)


# --- gradients -----------------------------------------------------------------------------


def test_gradcheck_outputs_and_log_scale():
    outputs, target = _batch(rows=4, extra=(2,))
    outputs.requires_grad_()
    log_scale = (0.3 * torch.randn(2, 2, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda o, s: mixed_type_nll(o, target, SCHEMA, log_scale=s, reduction="none").total,
        (outputs, log_scale),
    )


def test_gradients_are_the_textbook_ones():
    outputs, target = _batch(rows=6)
    outputs.requires_grad_()
    mixed_type_nll(outputs, target, SCHEMA, reduction="sum").total.backward()
    grad = outputs.grad
    for j, (column, where) in enumerate(zip(SCHEMA.columns, SCHEMA.output_slices)):
        params, x = outputs.detach()[:, where], target[:, j : j + 1]
        if column.kind == "binary":  # sigmoid(a) - x
            expected = torch.sigmoid(params) - x
        elif column.kind == "continuous":  # (mu - x) / sigma^2
            expected = (params - x) / column.scale**2
        else:  # softmax(z) - onehot(x)
            expected = torch.softmax(params, 1) - F.one_hot(x[:, 0].long(), column.width)
        torch.testing.assert_close(grad[:, where], expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_give_finite_loss_and_gradient(dtype):
    schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.categorical(3)])
    outputs = torch.tensor(
        [[1e4, 1e4, -1e4, 0.0], [-1e4, -1e4, 1e4, -1e4], [1e4, 0.0, 0.0, 0.0]], dtype=dtype
    ).requires_grad_()
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype=dtype)
    nll = mixed_type_nll(outputs, target, schema, reduction="none")
    assert torch.isfinite(nll.total).all()
    expected = torch.tensor([0.0, 1e4 + 2e4, 1e4 + math.log(3)], dtype=dtype)
    torch.testing.assert_close(nll.total, expected)
    nll.total.sum().backward()
    assert torch.isfinite(outputs.grad).all()


def test_no_gradient_reaches_other_columns_when_a_type_is_weighted_zero():
    outputs, target = _batch()
    outputs.requires_grad_()
    mixed_type_nll(outputs, target, SCHEMA, weights={"categorical": 0.0}).total.backward()
    for column, where in zip(SCHEMA.columns, SCHEMA.output_slices):
        if column.kind == "categorical":
            assert torch.equal(outputs.grad[:, where], torch.zeros_like(outputs.grad[:, where]))


# --- the schema ----------------------------------------------------------------------------


def test_schema_layout():
    assert SCHEMA.num_columns == len(SCHEMA) == 7
    assert SCHEMA.num_outputs == 3 + 1 + 1 + 5 + 1 + 1 + 3
    assert SCHEMA.indices("binary") == (1, 4)
    assert SCHEMA.indices("continuous") == (2, 5)
    assert SCHEMA.indices("categorical") == (0, 3, 6)
    assert SCHEMA.scales == (2.0, 0.3)
    assert SCHEMA.output_slices[3] == slice(5, 10)
    assert list(SCHEMA) == list(SCHEMA.columns)
    assert repr(SCHEMA) == "MixedSchema(binary=2, continuous=2, categorical=3, num_outputs=15)"


def test_schema_equality_and_with_scales():
    copy = MixedSchema(list(SCHEMA.columns))
    assert copy == SCHEMA and hash(copy) == hash(SCHEMA)
    rescaled = SCHEMA.with_scales([1.0, 1.0])
    assert rescaled.scales == (1.0, 1.0) and rescaled != SCHEMA
    assert [c.name for c in rescaled] == [c.name for c in SCHEMA]


def test_mode_inverts_encode():
    _, target = _batch(extra=(2,))
    encoded = SCHEMA.encode(target)
    assert encoded.shape == (8, SCHEMA.num_outputs, 2)
    assert torch.equal(SCHEMA.mode(encoded), target)


def test_mode_picks_the_most_probable_value():
    schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.continuous(), ColumnSpec.categorical(3)])
    outputs = torch.tensor([[0.2, -1.5, 0.1, 2.0, -3.0], [0.0, 4.0, 5.0, 2.0, 1.0]])
    assert torch.equal(schema.mode(outputs), torch.tensor([[1.0, -1.5, 1.0], [0.0, 4.0, 0.0]]))


def test_encoded_categories_have_zero_cross_entropy_at_large_scale():
    # A decoder that outputs 50 * encode(x) reconstructs the discrete columns exactly.
    schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.categorical(4)])
    _, target = _batch(schema)
    nll = mixed_type_nll(100 * schema.encode(target) - 50, target, schema)
    assert nll.total.item() < 1e-20


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"kind": "ordinal"}, "kind"),
        ({"kind": "categorical"}, "num_classes"),
        ({"kind": "categorical", "num_classes": 1}, "num_classes"),
        ({"kind": "categorical", "num_classes": True}, "num_classes"),
        ({"kind": "categorical", "num_classes": 2.0}, "num_classes"),
        ({"kind": "binary", "num_classes": 2}, "num_classes"),
        ({"kind": "continuous", "scale": 0.0}, "scale"),
        ({"kind": "continuous", "scale": -1.0}, "scale"),
        ({"kind": "continuous", "scale": math.inf}, "scale"),
        ({"kind": "continuous", "scale": math.nan}, "scale"),
        ({"kind": "binary", "scale": 2.0}, "scale"),
        ({"kind": "binary", "name": 3}, "name"),
    ],
)
def test_invalid_column_spec_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ColumnSpec(**kwargs)


@pytest.mark.parametrize("columns", [[], "binary", [ColumnSpec.binary(), "continuous"], None])
def test_invalid_schema_names_the_argument(columns):
    with pytest.raises(ValueError, match="columns"):
        MixedSchema(columns)


def test_invalid_schema_queries_name_the_argument():
    with pytest.raises(ValueError, match="kind"):
        SCHEMA.indices("ordinal")
    with pytest.raises(ValueError, match="scales"):
        SCHEMA.with_scales([1.0])
    with pytest.raises(ValueError, match="outputs"):
        SCHEMA.mode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="target"):
        SCHEMA.encode(torch.zeros(2, 3))


def _call(outputs=None, target=None, schema=SCHEMA, **kwargs):
    default_outputs, default_target = _batch(rows=2, dtype=torch.float32)
    outputs = default_outputs if outputs is None else outputs
    target = default_target if target is None else target
    return mixed_type_nll(outputs, target, schema, **kwargs)


def _target_with(column, value):
    _, target = _batch(rows=2, dtype=torch.float32)
    target[0, column] = value
    return target


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"schema": [ColumnSpec.binary()]}, "schema"),
        ({"outputs": torch.zeros(2, 15, dtype=torch.long)}, "outputs"),
        ({"outputs": torch.zeros(2, 14)}, "outputs"),
        ({"outputs": torch.zeros(15)}, "outputs"),
        ({"target": torch.zeros(2, 7, dtype=torch.long)}, "target"),
        ({"target": torch.zeros(2, 6)}, "target"),
        ({"target": torch.zeros(3, 7)}, "target"),
        ({"target": torch.zeros(2, 7, 1)}, "target"),
        ({"target": _target_with(1, 1.5)}, "target"),
        ({"target": _target_with(4, -0.1)}, "target"),
        ({"target": _target_with(1, math.nan)}, "target"),
        ({"target": _target_with(2, math.inf)}, "target"),
        ({"target": _target_with(5, math.nan)}, "target"),
        ({"target": _target_with(0, 1.5)}, "target"),
        ({"target": _target_with(0, 3.0)}, "target"),
        ({"target": _target_with(3, -1.0)}, "target"),
        ({"target": _target_with(6, math.nan)}, "target"),
        ({"log_scale": torch.zeros(3)}, "log_scale"),
        ({"log_scale": torch.zeros(2, 2, 2)}, "log_scale"),
        ({"log_scale": torch.zeros(2, dtype=torch.long)}, "log_scale"),
        ({"log_scale": torch.tensor([0.0, math.nan])}, "log_scale"),
        ({"weights": {"ordinal": 1.0}}, "weights"),
        ({"weights": {"binary": -1.0}}, "weights"),
        ({"weights": {"binary": math.inf}}, "weights"),
        ({"weights": {"binary": "heavy"}}, "weights"),
        ({"weights": [1.0, 1.0, 1.0]}, "weights"),
        ({"reduction": "batchmean"}, "reduction"),
    ],
)
def test_invalid_inputs_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _call(**kwargs)


def test_log_scale_without_continuous_columns_is_an_error():
    schema = MixedSchema([ColumnSpec.binary()])
    with pytest.raises(ValueError, match="log_scale"):
        mixed_type_nll(torch.zeros(2, 1), torch.zeros(2, 1), schema, log_scale=torch.zeros(0))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_outputs_are_named(bad):
    outputs, _ = _batch(rows=2, dtype=torch.float32)
    outputs[1, 3] = bad
    with pytest.raises(ValueError, match="outputs"):
        _call(outputs=outputs)


def test_overflow_of_finite_inputs_is_explained():
    schema = MixedSchema([ColumnSpec.continuous(scale=1e-30)])
    outputs, target = torch.zeros(1, 1), torch.ones(1, 1)
    with pytest.raises(ValueError, match="overflowed"):
        mixed_type_nll(outputs, target, schema)


def test_module_validates_up_front():
    with pytest.raises(ValueError, match="schema"):
        MixedTypeNLLLoss("binary")
    with pytest.raises(ValueError, match="weights"):
        MixedTypeNLLLoss(SCHEMA, weights={"binary": -1})
    with pytest.raises(ValueError, match="reduction"):
        MixedTypeNLLLoss(SCHEMA, reduction="batchmean")
