"""The Jensen-Shannon divergence."""

import importlib
import math
import sys

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from sklearn.datasets import load_iris

import xenthelpers
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers import js_divergence

LN2 = math.log(2)


def _distributions(shape, seed=0, zero_fraction=0.0, dim=-1):
    generator = torch.Generator().manual_seed(seed)
    weights = torch.rand(shape, generator=generator, dtype=torch.float64)
    weights = weights * (torch.rand(shape, generator=generator) >= zero_fraction)
    # Keep at least one positive entry in every distribution.
    first = [slice(None)] * len(shape)
    first[dim] = 0
    weights[tuple(first)] += 1e-3
    return weights / weights.sum(dim=dim, keepdim=True)


@st.composite
def pairs(draw):
    k = draw(st.integers(2, 6))
    entry = st.one_of(st.just(0.0), st.floats(1e-6, 1.0))
    rows = []
    for _ in range(2):
        row = draw(st.lists(entry, min_size=k, max_size=k).filter(lambda r: sum(r) > 0))
        rows.append(torch.tensor(row, dtype=torch.float64) / sum(row))
    return rows


# --- identities and cross-checks -----------------------------------------------------------


@pytest.mark.parametrize(
    "shape, dim", [((5, 4), -1), ((5, 4), 0), ((3, 4, 6), 1)], ids=["rows", "columns", "3d"]
)
def test_matches_scipy_squared(shape, dim):
    p = _distributions(shape, seed=1, zero_fraction=0.3, dim=dim)
    q = _distributions(shape, seed=2, zero_fraction=0.3, dim=dim)
    ours = js_divergence(p, q, dim=dim)
    distance = jensenshannon(p.numpy(), q.numpy(), axis=dim)
    np.testing.assert_allclose(ours.numpy(), distance**2, rtol=1e-10, atol=1e-15)
    expected_shape = list(shape)
    del expected_shape[dim]
    assert list(ours.shape) == expected_shape


@settings(max_examples=50)
@given(pair=pairs())
def test_symmetric_and_bounded(pair):
    p, q = pair
    forward, backward = js_divergence(p, q), js_divergence(q, p)
    torch.testing.assert_close(forward, backward, rtol=1e-12, atol=1e-15)
    assert -1e-15 <= float(forward) <= LN2 + 1e-12
    distance = jensenshannon(p.numpy(), q.numpy())
    np.testing.assert_allclose(float(forward), distance**2, atol=1e-12)


def test_zero_for_equal_and_ln2_for_disjoint_distributions():
    p = torch.tensor([[0.2, 0.8, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.2, 0.8, 0.0, 0.0], [0.0, 0.0, 0.3, 0.7]], dtype=torch.float64)
    torch.testing.assert_close(js_divergence(p, q), torch.tensor([0.0, LN2], dtype=torch.float64))


def test_float32_input_gives_float32_output():
    p = _distributions((3, 5)).float()
    q = _distributions((3, 5), seed=3).float()
    assert js_divergence(p, q).dtype == torch.float32


def _iris_pairs(dtype):
    """Every pair of rows of the iris measurements, each row normalised to sum 1."""
    rows = torch.tensor(load_iris().data, dtype=torch.float64)
    rows = (rows / rows.sum(dim=1, keepdim=True)).to(dtype)
    first, second = torch.triu_indices(len(rows), len(rows), offset=1)
    return rows[first], rows[second]


def test_float32_keeps_its_precision_for_close_distributions():
    """Many iris rows are close (divergences down to 6e-7): the difference of two
    logarithms would lose the digits they share, 3e-2 relative in float32."""
    p, q = _iris_pairs(torch.float32)
    expected = jensenshannon(p.double().numpy(), q.double().numpy(), axis=1) ** 2
    ours = js_divergence(p, q).double().numpy()
    # A few float32 roundings per term; the terms are non-negative, so no cancellation
    # in their sum. SciPy renormalises the rows (off from 1 by about one rounding),
    # which moves its float64 reference by far less than this.
    eps = torch.finfo(torch.float32).eps
    np.testing.assert_allclose(ours, expected, rtol=50 * eps, atol=1e-3 * eps)


def test_float64_keeps_its_precision_for_close_distributions():
    """Against the formula in 40 digits on the 50 closest iris pairs, where SciPy's own
    float64 result (a difference of logarithms) is off by up to 1e-11 relative."""
    p, q = _iris_pairs(torch.float64)
    ours = js_divergence(p, q)
    order = ours.argsort()
    closest = order[ours[order] > 0][:50]
    with mpmath.workdps(40):
        for index in closest.tolist():
            expected = 0
            for a, b in zip(p[index].tolist(), q[index].tolist(), strict=True):
                a, b = mpmath.mpf(a), mpmath.mpf(b)
                m = (a + b) / 2
                expected += (a * mpmath.log(a / m) + b * mpmath.log(b / m)) / 2
            assert float(ours[index]) == pytest.approx(float(expected), rel=50 * 2.0**-52)


# --- gradients --------------------------------------------------------------------------


def test_gradcheck_inside_the_simplex():
    p = _distributions((3, 4), seed=4).requires_grad_()
    q = _distributions((3, 4), seed=5).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: js_divergence(a, b), (p, q))


def test_gradient_with_zeros_is_finite_and_exact_where_defined():
    p = torch.tensor([0.3, 0.7, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.0, 0.5, 0.5, 0.0], dtype=torch.float64, requires_grad=True)
    js_divergence(p, q).backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()
    m = (p.detach() + q.detach()) / 2
    # d JS / d p_k = log(p_k / m_k) / 2 wherever p_k > 0.
    torch.testing.assert_close(p.grad[:2], 0.5 * torch.log(p.detach()[:2] / m[:2]))
    torch.testing.assert_close(q.grad[1:3], 0.5 * torch.log(q.detach()[1:3] / m[1:3]))
    assert p.grad[3] == 0 and q.grad[3] == 0


def test_softmax_that_underflows_to_zero_keeps_finite_gradients():
    logits_p = torch.tensor([[0.0, -1e4, 3.0]], requires_grad=True)
    logits_q = torch.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    divergence = js_divergence(logits_p.softmax(dim=1), logits_q.softmax(dim=1))
    assert torch.isfinite(divergence).all()
    divergence.sum().backward()
    assert torch.isfinite(logits_p.grad).all() and torch.isfinite(logits_q.grad).all()


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, q, kwargs, name",
    [
        (torch.tensor([0.5, 0.6]), torch.tensor([0.5, 0.5]), {}, "p"),
        (torch.tensor([0.5, 0.5]), torch.tensor([1.5, -0.5]), {}, "q"),
        (torch.tensor([math.nan, 1.0]), torch.tensor([0.5, 0.5]), {}, "p"),
        (torch.tensor([1, 0]), torch.tensor([0.5, 0.5]), {}, "p"),
        (torch.tensor([0.5, 0.5]), torch.tensor([0.2, 0.3, 0.5]), {}, "q"),
        (torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]), {"dim": 1}, "dim"),
        (torch.tensor(1.0), torch.tensor(1.0), {}, "dim"),
    ],
)
def test_invalid_inputs_name_the_argument(p, q, kwargs, name):
    with pytest.raises(ValueError, match=name):
        js_divergence(p, q, **kwargs)


def test_dim_must_be_an_integer():
    p = torch.tensor([[0.25, 0.75]])
    for dim in (True, 1.0, "1"):
        with pytest.raises(ValueError, match="dim"):
            js_divergence(p, p, dim=dim)


def test_checks_the_sum_along_dim():
    rows_sum_to_one = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    js_divergence(rows_sum_to_one, rows_sum_to_one, dim=1)
    with pytest.raises(ValueError, match="p"):
        js_divergence(rows_sum_to_one, rows_sum_to_one, dim=0)


def test_without_validation_nothing_is_read_back():
    p = torch.empty(3, 4, device="meta")
    assert js_divergence(p, p, validate_args=False).shape == (3,)
    off = torch.tensor([[0.5, 0.6]])
    assert torch.isfinite(js_divergence(off, off, validate_args=False)).all()


def test_compiles_to_one_graph_without_validation():
    p = _distributions((4, 5), seed=6)
    q = _distributions((4, 5), seed=7, zero_fraction=0.3)
    compiled = torch.compile(
        lambda a, b: js_divergence(a, b, validate_args=False), fullgraph=True, backend="eager"
    )
    torch.testing.assert_close(compiled(p, q), js_divergence(p, q), rtol=0, atol=0)


@NEEDS_CUDA
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(validate_args, most):
    p = _distributions((4, 5), seed=8).cuda()
    q = _distributions((4, 5), seed=9).cuda()
    reads = cuda_synchronisations(lambda: js_divergence(p, q, validate_args=validate_args))
    assert reads <= most


# --- where it lives ---------------------------------------------------------------------


def test_is_a_metric_importable_from_the_top_level():
    assert js_divergence is xenthelpers.metrics.js_divergence
    assert "js_divergence" in xenthelpers.metrics.__all__
    assert "js_divergence" not in xenthelpers.losses.__all__


def test_the_old_losses_name_warns_and_is_the_metric():
    with pytest.warns(DeprecationWarning, match="xenthelpers.metrics") as record:
        from xenthelpers.losses import js_divergence as old
    assert old is js_divergence
    assert all(w.filename == __file__ for w in record)
    with pytest.warns(DeprecationWarning, match="xenthelpers.metrics"):
        assert xenthelpers.losses.js_divergence is js_divergence


def test_the_old_module_warns_and_reexports_the_metric():
    sys.modules.pop("xenthelpers.losses.divergence", None)
    with pytest.warns(DeprecationWarning, match="xenthelpers.metrics"):
        module = importlib.import_module("xenthelpers.losses.divergence")
    assert module.js_divergence is js_divergence
