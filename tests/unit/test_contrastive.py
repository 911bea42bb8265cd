"""The InfoNCE contrastive loss."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from info_nce import InfoNCE

from xenthelpers import info_nce

REDUCTIONS = ["mean", "sum", "none"]


def _embeddings(n=8, d=5, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    queries = torch.randn(n, d, generator=generator, dtype=dtype)
    keys = queries + 0.5 * torch.randn(n, d, generator=generator, dtype=dtype)
    return queries, keys


# --- identities and cross-checks -----------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", [0.07, 0.5, 2.0])
def test_matches_the_info_nce_package(reduction, temperature):
    queries, keys = _embeddings()
    theirs = InfoNCE(temperature=temperature, reduction=reduction)(queries, keys)
    ours = info_nce(queries, keys, temperature=temperature, reduction=reduction)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_is_cross_entropy_over_the_similarity_matrix(normalize, reduction):
    queries, keys = _embeddings(seed=1)
    u = F.normalize(queries, dim=1) if normalize else queries
    v = F.normalize(keys, dim=1) if normalize else keys
    logits = u @ v.T / 0.3
    expected = F.cross_entropy(logits, torch.arange(8), reduction=reduction)
    ours = info_nce(queries, keys, temperature=0.3, normalize=normalize, reduction=reduction)
    torch.testing.assert_close(ours, expected)


def test_is_cross_entropy_with_the_positive_as_class_zero():
    queries, keys = _embeddings(seed=2)
    similarities = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).T / 0.2
    rows = []
    for i in range(8):
        negatives = torch.cat([similarities[i, :i], similarities[i, i + 1 :]])
        rows.append(torch.cat([similarities[i, i : i + 1], negatives]))
    expected = F.cross_entropy(torch.stack(rows), torch.zeros(8, dtype=torch.long))
    torch.testing.assert_close(info_nce(queries, keys, temperature=0.2), expected)


@pytest.mark.parametrize("n", [2, 5, 16])
@pytest.mark.parametrize("temperature", [0.1, 1.0])
def test_orthonormal_pairs_have_a_closed_form(n, temperature):
    basis = torch.eye(n, dtype=torch.float64)
    # Each query matches its key (cosine 1) and is orthogonal to the other n - 1 keys.
    expected = math.log(1 + (n - 1) * math.exp(-1 / temperature))
    loss = info_nce(basis, basis, temperature=temperature, reduction="none")
    torch.testing.assert_close(loss, torch.full((n,), expected, dtype=torch.float64))


@settings(max_examples=30)
@given(
    n=st.integers(1, 10),
    temperature=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.01, 100.0),
)
def test_bounds_and_scale_invariance(n, temperature, seed, scale):
    queries, keys = _embeddings(n=n, seed=seed)
    loss = info_nce(queries, keys, temperature=temperature, reduction="none")
    assert (loss >= 0).all()
    assert (loss <= 2 / temperature + math.log(n) + 1e-9).all()
    rescaled = info_nce(scale * queries, keys, temperature=temperature, reduction="none")
    torch.testing.assert_close(rescaled, loss)


def test_dot_products_depend_on_the_scale():
    queries, keys = _embeddings(seed=3)
    plain = info_nce(queries, keys, normalize=False)
    assert not torch.isclose(info_nce(3 * queries, keys, normalize=False), plain)


def test_zero_rows_stay_finite():
    queries, keys = _embeddings(n=4, seed=4)
    queries = queries.clone()
    queries[0] = 0
    queries.requires_grad_()
    loss = info_nce(queries, keys, reduction="none")
    # A zero query has similarity 0 to every key: a uniform guess among 4.
    torch.testing.assert_close(loss[0], torch.tensor(math.log(4), dtype=torch.float64))
    loss.sum().backward()
    assert torch.isfinite(queries.grad).all()


# --- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("normalize", [True, False])
def test_gradcheck(normalize):
    queries, keys = _embeddings(n=4, d=3, seed=5)
    queries.requires_grad_()
    keys.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda q, k: info_nce(q, k, temperature=0.5, normalize=normalize), (queries, keys)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tiny_temperature_gives_finite_loss_and_gradient(dtype):
    queries, keys = _embeddings(seed=6, dtype=dtype)
    queries.requires_grad_()
    loss = info_nce(queries, keys, temperature=1e-4)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(queries.grad).all()


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "queries, keys, kwargs, name",
    [
        (torch.zeros(4), torch.zeros(4), {}, "queries"),
        (torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), {}, "queries"),
        (torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, 3), {}, "queries"),
        (torch.ones(4, 3), torch.ones(4), {}, "keys"),
        (torch.ones(4, 3), torch.ones(5, 3), {}, "keys"),
        (torch.ones(4, 3), torch.ones(4, 2), {}, "keys"),
        (torch.ones(4, 3), torch.ones(4, 3, dtype=torch.float64), {}, "keys"),
        (torch.ones(4, 3), torch.ones(4, 3), {"temperature": 0.0}, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), {"temperature": -0.1}, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), {"reduction": "batchmean"}, "reduction"),
        (torch.ones(4, 3), torch.ones(4, 3), {"temperature": True}, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), {"normalize": "yes"}, "normalize"),
        (torch.ones(4, 3), torch.ones(4, 3), {"normalize": 1}, "normalize"),
        (torch.tensor([[math.nan, 1.0]]), torch.ones(1, 2), {}, "queries"),
        (torch.ones(1, 2), torch.tensor([[math.inf, 1.0]]), {}, "keys"),
    ],
)
def test_invalid_inputs_name_the_argument(queries, keys, kwargs, name):
    with pytest.raises(ValueError, match=name):
        info_nce(queries, keys, **kwargs)


def test_overflowing_dot_products_raise():
    huge = torch.full((2, 2), 1e20)
    with pytest.raises(ValueError, match="overflow"):
        info_nce(huge, huge, normalize=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_reduces_as_cross_entropy_does(reduction):
    empty = torch.zeros(0, 3, dtype=torch.float64)
    ours = info_nce(empty, empty, reduction=reduction)
    theirs = F.cross_entropy(
        torch.zeros(0, 0), torch.zeros(0, dtype=torch.long), reduction=reduction
    )
    torch.testing.assert_close(ours, theirs.double(), equal_nan=True)  # mean NaN, sum 0


def test_overflow_passes_unchecked_without_validation():
    huge = torch.full((2, 2), 1e20)
    assert not torch.isfinite(info_nce(huge, huge, normalize=False, validate_args=False))
