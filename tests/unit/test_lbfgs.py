"""minimise_lbfgs: exact optima of small smooth objectives."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from xenthelpers import minimise_lbfgs

F64 = {"dtype": torch.float64}


def test_free_logits_reach_the_target_distribution():
    target = torch.tensor([[0.6, 0.3, 0.1], [0.05, 0.05, 0.9]], **F64)
    z = torch.zeros(2, 3, **F64, requires_grad=True)
    loss = minimise_lbfgs([z], lambda: F.cross_entropy(z, target, reduction="sum"))
    assert torch.allclose(torch.softmax(z.detach(), 1), target, atol=1e-10)
    entropy = -(target * target.log()).sum()
    assert loss == pytest.approx(entropy.item(), abs=1e-12)


def test_least_squares_matches_the_closed_form():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(20, 4, generator=gen, **F64)
    b = torch.randn(20, generator=gen, **F64)
    w = torch.zeros(4, **F64, requires_grad=True)
    minimise_lbfgs([w], lambda: ((a @ w - b) ** 2).sum())
    assert torch.allclose(w.detach(), torch.linalg.lstsq(a, b[:, None]).solution[:, 0], atol=1e-9)


def test_several_parameter_tensors_and_the_returned_value():
    x = torch.tensor([3.0], **F64, requires_grad=True)
    y = torch.tensor([-2.0], **F64, requires_grad=True)
    value = minimise_lbfgs([x, y], lambda: ((x - 1) ** 2 + (y + 4) ** 2 + 0.5).sum())
    assert x.item() == pytest.approx(1.0) and y.item() == pytest.approx(-4.0)
    assert value == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([], lambda: torch.zeros(())), {}, "params"),
        (([torch.zeros(2)], lambda: torch.zeros(())), {}, "params"),
        (([torch.zeros(2, requires_grad=True)], "no"), {}, "objective"),
        (([torch.zeros(2, requires_grad=True)], lambda: torch.zeros(())), {"max_iter": 0}, "max_iter"),
        (([torch.zeros(2, requires_grad=True)], lambda: torch.zeros(())),
         {"tolerance_grad": 0.0}, "tolerance_grad"),
    ],
)
def test_rejects_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimise_lbfgs(*args, **kwargs)
