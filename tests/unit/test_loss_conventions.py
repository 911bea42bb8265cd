"""What every public loss promises, checked on all of them at once.

With ``validate_args=False`` a loss reads no tensor data on the host: it runs on the
``meta`` device (tensors without data), and ``torch.compile(fullgraph=True)`` traces
it without a graph break. With ``validate_args=True`` it reads its inputs' values back
at most once per call (counted on CUDA, where a read is a synchronisation).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch

import xenthelpers.losses as losses
from xenthelpers import MixedSchema, Taxonomy
from xenthelpers.losses.mixed_type import ColumnSpec

TAXONOMY = Taxonomy.complete((2, 3))
SCHEMA = MixedSchema([ColumnSpec.binary(), ColumnSpec.continuous(), ColumnSpec.categorical(3)])


def _inputs(device: str) -> dict[str, Callable[[], tuple]]:
    """For each loss, a function returning its positional arguments (float64)."""
    f64 = {"dtype": torch.float64, "device": device}
    long = {"dtype": torch.long, "device": device}

    def logits(*shape):
        return torch.randn(*shape, **f64).requires_grad_() if device != "meta" else \
            torch.empty(*shape, **f64).requires_grad_()

    def labels(n, k):
        return torch.randint(0, k, (n,), device="cpu").to(device)

    def binary(*shape):
        return torch.randint(0, 2, shape, device="cpu").to(**f64)

    prior = torch.full((4,), 0.25, **f64)
    return {
        "focal_loss": lambda: (logits(6, 4), labels(6, 4)),
        "sigmoid_focal_loss": lambda: (logits(6, 3), binary(6, 3)),
        "masked_binary_cross_entropy": lambda: (
            logits(6, 3), binary(6, 3), torch.ones(6, 3, dtype=torch.bool, device=device)),
        "distillation_loss": lambda: (logits(6, 4), logits(6, 4).detach()),
        "info_nce": lambda: (logits(6, 5), logits(6, 5)),
        "logit_adjusted_cross_entropy": lambda: (logits(6, 4), labels(6, 4), prior),
        "hierarchical_cross_entropy": lambda: (
            logits(6, TAXONOMY.num_logits), labels(6, TAXONOMY.num_leaves), TAXONOMY),
        "mixed_type_nll": lambda: (
            logits(6, SCHEMA.num_outputs), torch.zeros(6, 3, **f64), SCHEMA),
    }


LOSSES = sorted(_inputs("cpu"))


def _call(name: str, args: tuple, **kwargs) -> torch.Tensor:
    result = getattr(losses, name)(*args, validate_args=False, **kwargs)
    return result.total if hasattr(result, "total") else result


def test_every_public_loss_function_is_covered():
    functions = {n for n in losses.__all__ if n.endswith(("loss", "entropy", "nce", "nll",
                                                          "divergence"))}
    assert functions == set(LOSSES)


@pytest.mark.parametrize("name", LOSSES)
def test_runs_on_the_meta_device_without_validation(name):
    args = _inputs("meta")[name]()
    loss = _call(name, args)
    assert loss.device.type == "meta" and loss.dim() == 0
    loss.backward()


@pytest.mark.parametrize("name", LOSSES)
def test_compiles_to_one_graph_without_validation(name):
    torch.manual_seed(0)
    args = _inputs("cpu")[name]()
    compiled = torch.compile(lambda *a: _call(name, a), fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(*args), _call(name, args))


@pytest.mark.parametrize("name", LOSSES)
def test_validation_does_not_change_the_value(name):
    torch.manual_seed(0)
    args = _inputs("cpu")[name]()
    checked = getattr(losses, name)(*args)
    checked = checked.total if hasattr(checked, "total") else checked
    torch.testing.assert_close(checked, _call(name, args), rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(name, validate_args, most):
    args = _inputs("cuda")[name]()
    getattr(losses, name)(*args, validate_args=validate_args)  # warm-up: lazy init
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            getattr(losses, name)(*args, validate_args=validate_args)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in record if "synchroniz" in str(w.message)]
    assert len(syncs) <= most, [str(w.message) for w in syncs]
