"""Minimising a smooth, deterministic objective to high precision with L-BFGS."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from .._validation import check_positive, check_positive_int


def minimise_lbfgs(
    params: Iterable[torch.Tensor],
    objective: Callable[[], torch.Tensor],
    *,
    max_iter: int = 500,
    tolerance_grad: float = 1e-12,
) -> float:
    r"""Minimise ``objective()`` over ``params`` in place with full-batch L-BFGS.

    The chapters use it where an exact optimum is the point: free logits that
    minimise a loss, or a small model whose optimum a formula predicts. It runs
    ``torch.optim.LBFGS`` with a strong-Wolfe line search until the largest
    gradient entry is below ``tolerance_grad`` or ``max_iter`` iterations have
    run; the usual stopping rule on the change of the loss is switched off, since
    near an optimum the loss changes by less than its own rounding error long
    before the parameters settle.

    Parameters
    ----------
    params : iterable of Tensor
        Leaf tensors with ``requires_grad=True``, changed in place.
    objective : callable
        ``objective() -> scalar tensor``, differentiable in ``params``.
    max_iter : int, default 500
        Largest number of L-BFGS iterations.
    tolerance_grad : float, default 1e-12
        Stop when every gradient entry is smaller than this in absolute value.

    Returns
    -------
    float
        The objective at the returned parameters.

    Examples
    --------
    >>> z = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    >>> target = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    >>> loss = minimise_lbfgs([z], lambda: torch.nn.functional.cross_entropy(z, target))
    >>> torch.softmax(z.detach(), dim=0)
    tensor([0.5000, 0.3000, 0.2000], dtype=torch.float64)
    """
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("`params` must be a non-empty list of tensors with requires_grad=True")
    if not callable(objective):
        raise ValueError(f"`objective` must be callable, got {type(objective).__name__}")
    check_positive_int(max_iter, "max_iter")
    check_positive(tolerance_grad, "tolerance_grad")
    optimizer = torch.optim.LBFGS(
        params,
        max_iter=max_iter,
        tolerance_grad=tolerance_grad,
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return float(objective())
