"""The seeded mixed-type table generated from latent factors."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Categorical, Normal

from tests.unit.devices import DEVICES
from xenthelpers.data.mixed_table import LatentFactorTable, MixedTableSample, make_mixed_table
from xenthelpers.losses.mixed_type import ColumnSpec, MixedSchema, mixed_type_nll


def _draw(model, n, seed=0):
    return model.sample(n, generator=torch.Generator().manual_seed(seed))


def test_schema_columns_come_in_type_order_with_their_noise_scales():
    model = make_mixed_table(2, 3, 1, num_classes=5, explained_variance=0.75,
                             marginal_std=[1.0, 10.0, 0.2])
    kinds = [column.kind for column in model.schema]
    assert kinds == ["binary"] * 2 + ["continuous"] * 3 + ["categorical"]
    assert model.schema.columns[-1].num_classes == 5
    expected = [s * math.sqrt(0.25) for s in (1.0, 10.0, 0.2)]
    assert model.schema.scales == pytest.approx(expected, rel=1e-12)
    assert model.loadings.shape == (2, model.schema.num_outputs)
    assert model.num_factors == 2


def test_the_seed_fixes_the_model_and_the_generator_fixes_the_rows():
    a, b = make_mixed_table(2, 2, 2, seed=3), make_mixed_table(2, 2, 2, seed=3)
    assert torch.equal(a.loadings, b.loadings) and torch.equal(a.offset, b.offset)
    assert not torch.equal(a.loadings, make_mixed_table(2, 2, 2, seed=4).loadings)
    first, again = _draw(a, 50, seed=1), _draw(a, 50, seed=1)
    assert torch.equal(first.table, again.table) and torch.equal(first.factors, again.factors)
    assert not torch.equal(first.table, _draw(a, 50, seed=2).table)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sample_shapes_dtype_and_valid_values(dtype):
    model = make_mixed_table(3, 2, 2, num_classes=3, num_factors=4, dtype=dtype)
    sample = _draw(model, 400)
    assert isinstance(sample, MixedTableSample)
    assert sample.table.shape == (400, 7) and sample.factors.shape == (400, 4)
    assert sample.table.dtype == dtype and sample.factors.dtype == dtype
    binary = sample.table[:, :3]
    assert bool(((binary == 0) | (binary == 1)).all())
    codes = sample.table[:, 5:]
    assert set(codes.unique().tolist()) <= {0.0, 1.0, 2.0}
    # A valid target for the loss (it validates every column).
    outputs = model.parameters(sample.factors)
    assert torch.isfinite(mixed_type_nll(outputs, sample.table, model.schema).total)


def test_parameters_are_an_affine_function_of_the_factors():
    model = make_mixed_table(1, 1, 1, num_factors=3, dtype=torch.float64)
    factors = torch.randn(5, 3, dtype=torch.float64)
    expected = factors @ model.loadings + model.offset
    torch.testing.assert_close(model.parameters(factors), expected)


@pytest.mark.parametrize("device", DEVICES)
def test_parameters_follow_the_device_and_dtype_of_the_factors(device):
    model = make_mixed_table(1, 1, 1)
    factors = torch.zeros(2, 2, dtype=torch.float64, device=device)
    theta = model.parameters(factors)
    assert theta.device.type == device and theta.dtype == torch.float64


def test_continuous_marginals_match_the_requested_moments():
    stds, means = [0.5, 50.0], [1.0, -300.0]
    model = make_mixed_table(0, 2, 0, marginal_std=stds, marginal_mean=means, num_factors=3,
                             dtype=torch.float64)
    n = 200_000
    x = _draw(model, n).table
    for j in range(2):
        # Standard errors: sd / sqrt(n) for the mean, about sd / sqrt(2n) for the sd.
        assert abs(x[:, j].mean().item() - means[j]) < 5 * stds[j] / math.sqrt(n)
        assert abs(x[:, j].std().item() - stds[j]) < 5 * stds[j] / math.sqrt(2 * n)


def test_columns_are_dependent_through_the_factors():
    # cov(x_i, x_j) = tau_i tau_j rho u_i . u_j for two continuous columns.
    rho = 0.8
    model = make_mixed_table(0, 2, 0, explained_variance=rho, num_factors=2,
                             dtype=torch.float64, seed=0)
    n = 200_000
    x = _draw(model, n).table
    u = model.loadings / model.loadings.norm(dim=0)
    expected = rho * (u[:, 0] @ u[:, 1]).item()
    measured = torch.corrcoef(x.T)[0, 1].item()
    assert abs(expected) > 0.5  # this seed gives a strongly dependent pair
    assert abs(measured - expected) < 5 / math.sqrt(n)


def test_factors_explain_the_requested_share_of_variance():
    rho = 0.6
    model = make_mixed_table(0, 3, 0, explained_variance=rho, dtype=torch.float64)
    sample = _draw(model, 100_000)
    residual = sample.table - model.parameters(sample.factors)
    explained = 1 - residual.var(0) / sample.table.var(0)
    torch.testing.assert_close(explained, torch.full((3,), rho, dtype=torch.float64),
                               atol=0.01, rtol=0)


def test_discrete_columns_follow_their_conditional_probabilities():
    model = make_mixed_table(2, 0, 1, num_classes=3, dtype=torch.float64)
    sample = _draw(model, 100_000)
    theta = model.parameters(sample.factors)
    mean_p = torch.sigmoid(theta[:, :2]).mean(0)
    frequency = sample.table[:, :2].mean(0)
    assert ((frequency - mean_p).abs() < 5 * 0.5 / math.sqrt(100_000)).all()
    probs = torch.softmax(theta[:, 2:], dim=1).mean(0)
    counts = torch.bincount(sample.table[:, 2].long(), minlength=3) / 100_000
    assert ((counts - probs).abs() < 5 * 0.5 / math.sqrt(100_000)).all()


@settings(max_examples=10)
@given(seed=st.integers(0, 1000))
def test_loss_at_the_true_parameters_is_the_conditional_nll(seed):
    model = make_mixed_table(2, 2, 2, num_classes=4, seed=seed, dtype=torch.float64,
                             marginal_std=[3.0, 0.1])
    sample = _draw(model, 64, seed=seed)
    theta = model.parameters(sample.factors)
    ours = mixed_type_nll(theta, sample.table, model.schema, reduction="none").total
    log_p = torch.zeros(64, dtype=torch.float64)
    x = sample.table
    for j in range(2):
        log_p += Bernoulli(logits=theta[:, j]).log_prob(x[:, j])
        log_p += Normal(theta[:, 2 + j], model.schema.scales[j]).log_prob(x[:, 2 + j])
        where = slice(4 + 4 * j, 8 + 4 * j)
        log_p += Categorical(logits=theta[:, where]).log_prob(x[:, 4 + j].long())
    torch.testing.assert_close(ours, -log_p, rtol=1e-12, atol=1e-12)


def test_a_hand_built_model():
    schema = MixedSchema([ColumnSpec.categorical(2), ColumnSpec.continuous(scale=1e-9)])
    model = LatentFactorTable(schema, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64),
                              torch.tensor([-50.0, 50.0, 0.0], dtype=torch.float64))
    sample = _draw(model, 10)
    assert bool((sample.table[:, 0] == 1).all())  # level 1 has all the probability
    torch.testing.assert_close(sample.table[:, 1], sample.factors[:, 0], atol=1e-7, rtol=0)
    assert "num_factors=1" in repr(model)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        ((-1, 1, 1), {}, "num_binary"),
        ((1, 1.5, 1), {}, "num_continuous"),
        ((1, 1, True), {}, "num_categorical"),
        ((0, 0, 0), {}, "column"),
        ((1, 1, 1), {"num_classes": 1}, "num_classes"),
        ((1, 1, 1), {"num_factors": 0}, "num_factors"),
        ((1, 1, 1), {"signal": 0.0}, "signal"),
        ((1, 1, 1), {"explained_variance": 1.0}, "explained_variance"),
        ((1, 1, 1), {"explained_variance": 0.0}, "explained_variance"),
        ((1, 2, 1), {"marginal_std": [1.0]}, "marginal_std"),
        ((1, 1, 1), {"marginal_std": [0.0]}, "marginal_std"),
        ((1, 1, 1), {"marginal_std": [math.inf]}, "marginal_std"),
        ((1, 2, 1), {"marginal_mean": [1.0, 2.0, 3.0]}, "marginal_mean"),
        ((1, 1, 1), {"marginal_mean": [math.nan]}, "marginal_mean"),
        ((1, 1, 1), {"dtype": torch.int64}, "dtype"),
    ],
)
def test_invalid_make_arguments_name_the_argument(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_mixed_table(*args, **kwargs)


def test_invalid_model_arguments_name_the_argument():
    schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.continuous()])
    good_w, good_b = torch.zeros(2, 2), torch.zeros(2)
    with pytest.raises(ValueError, match="schema"):
        LatentFactorTable([ColumnSpec.binary()], good_w, good_b)
    with pytest.raises(ValueError, match="loadings"):
        LatentFactorTable(schema, torch.zeros(2, 3), good_b)
    with pytest.raises(ValueError, match="loadings"):
        LatentFactorTable(schema, torch.zeros(0, 2), good_b)
    with pytest.raises(ValueError, match="loadings"):
        LatentFactorTable(schema, torch.tensor([[math.nan, 0.0]]), good_b)
    with pytest.raises(ValueError, match="loadings"):
        LatentFactorTable(schema, torch.zeros(2, 2, dtype=torch.long), good_b)
    with pytest.raises(ValueError, match="offset"):
        LatentFactorTable(schema, good_w, torch.zeros(3))
    with pytest.raises(ValueError, match="offset"):
        LatentFactorTable(schema, good_w, torch.tensor([0.0, math.inf]))
    model = LatentFactorTable(schema, good_w, good_b)
    with pytest.raises(ValueError, match="factors"):
        model.parameters(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="factors"):
        model.parameters(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="num_rows"):
        model.sample(0)
