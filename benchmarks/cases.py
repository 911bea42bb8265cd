"""The benchmark cases: each of our helpers beside the implementation it should match or beat."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from benchmarks.harness import (
    forward_backward,
    interleaved_median_seconds,
    median_seconds,
    peak_bytes,
)

N, K, D = 4096, 1000, 128


@dataclass
class Row:
    """One comparison: our time (or memory) against a peer's, with the target ratio."""

    case: str
    peer: str
    ours: float
    theirs: float
    target: float
    unit: str = "ms"
    at_least: bool = False  # the target is a floor (ratio >= target), not a ceiling

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.at_least else self.ratio <= self.target


def _logits(device, *shape, grad=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g).mul_(3).to(device).requires_grad_(grad)


def _labels(device, n=N, k=K, seed=1):
    return torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed)).to(device)


def _time_ms(fn, device, repeats=20):
    return 1e3 * median_seconds(fn, device=device, repeats=repeats)


def focal(device) -> list[Row]:
    import kornia.losses

    from xenthelpers import focal_loss

    x, y = _logits(device, N, K), _labels(device)
    ours = forward_backward(lambda a: focal_loss(a, y, gamma=2.0), x)
    ce = forward_backward(lambda a: F.cross_entropy(a, y), x)
    kornia_fl = forward_backward(
        lambda a: kornia.losses.focal_loss(a, y, alpha=1.0, gamma=2.0, reduction="mean"), x
    )
    times = interleaved_median_seconds(
        {"ours": ours, "ce": ce, "kornia": kornia_fl}, device=device, rounds=30
    )
    t_ours, t_ce, t_kornia = (1e3 * times[name] for name in ("ours", "ce", "kornia"))
    mib = 2.0**20
    m_ours, m_ce = peak_bytes(ours, device=device), peak_bytes(ce, device=device)
    rows = [
        Row("focal_loss fwd+bwd", "F.cross_entropy", t_ours, t_ce, 1.25),
        Row("focal_loss fwd+bwd", "kornia focal_loss", t_ours, t_kornia, 1.0),
    ]
    if m_ours is not None and m_ce:
        rows.append(Row("focal_loss peak memory", "F.cross_entropy", m_ours / mib, m_ce / mib,
                        1.5, unit="MiB"))
    return rows


def validation(device) -> list[Row]:
    """The fixed cost of a loss call, where it dominates: N = 256, K = 10.

    ``focal_loss`` forward + backward against ``F.cross_entropy``, with its value
    checks on (one host transfer per call) and off (``validate_args=False``).
    """
    from xenthelpers import focal_loss

    x, y = _logits(device, 256, 10), _labels(device, n=256, k=10)
    runs = {
        "ce": forward_backward(lambda a: F.cross_entropy(a, y), x),
        "checked": forward_backward(lambda a: focal_loss(a, y), x),
        "unchecked": forward_backward(lambda a: focal_loss(a, y, validate_args=False), x),
    }
    times = interleaved_median_seconds(runs, device=device, rounds=2000)
    us = {name: 1e6 * t for name, t in times.items()}
    return [
        Row("focal_loss fwd+bwd N=256 K=10, validate_args=True", "F.cross_entropy",
            us["checked"], us["ce"], 2.0, unit="us"),
        Row("focal_loss fwd+bwd N=256 K=10, validate_args=False", "F.cross_entropy",
            us["unchecked"], us["ce"], 1.5, unit="us"),
    ]


def distillation(device) -> list[Row]:
    from xenthelpers import distillation_loss

    s, t, T = _logits(device, N, K), _logits(device, N, K, grad=False, seed=2), 4.0
    ours = forward_backward(lambda a: distillation_loss(a, t, temperature=T), s)

    def reference(a):
        soft = F.softmax(t / T, dim=1)
        return F.kl_div(F.log_softmax(a / T, dim=1), soft, reduction="batchmean") * T**2

    peer = forward_backward(reference, s)
    return [Row("distillation_loss fwd+bwd", "F.kl_div * T^2",
                _time_ms(ours, device), _time_ms(peer, device), 1.3)]


def calibration(device) -> list[Row]:
    from torchmetrics.functional.classification import multiclass_calibration_error

    from xenthelpers import expected_calibration_error

    probs = _logits(device, N, K, grad=False).softmax(dim=1)
    y = _labels(device)
    ours = lambda: expected_calibration_error(probs, y, n_bins=15)  # noqa: E731
    peer = lambda: multiclass_calibration_error(probs, y, num_classes=K, n_bins=15)  # noqa: E731
    return [Row("expected_calibration_error", "torchmetrics", _time_ms(ours, device),
                _time_ms(peer, device), 1.0)]


def contrastive(device) -> list[Row]:
    from info_nce import InfoNCE

    from xenthelpers import info_nce

    q, k = _logits(device, N, D), _logits(device, N, D, seed=3)
    ours = forward_backward(lambda a, b: info_nce(a, b, temperature=0.1), q, k)
    peer_loss = InfoNCE(temperature=0.1)
    peer = forward_backward(lambda a, b: peer_loss(a, b), q, k)
    return [Row("info_nce fwd+bwd (d=128)", "info-nce-pytorch",
                _time_ms(ours, device), _time_ms(peer, device), 1.0)]


def crowds(device) -> list[Row]:
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    from xenthelpers import dawid_skene
    from xenthelpers.data import simulate_crowd

    kinds = ["reliable"] * 15 + ["noisy"] * 15 + ["spammer"] * 10 + ["adversarial"] * 10
    crowd = simulate_crowd(100_000, 4, kinds, annotations_per_task=5,
                           generator=torch.Generator().manual_seed(0))
    frame = pd.DataFrame({"task": crowd.tasks.numpy(), "worker": crowd.workers.numpy(),
                          "label": crowd.labels.numpy()})
    result = {}

    def ours():
        result["ours"] = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, num_classes=4)

    def peer():
        result["peer"] = DawidSkene(n_iter=100, tol=1e-5).fit_predict(frame)

    t_ours = _time_ms(ours, device, repeats=3)
    t_peer = _time_ms(peer, device, repeats=1)
    acc_ours = (result["ours"].posteriors.argmax(1) == crowd.true_labels).double().mean()
    peer_labels = torch.tensor(result["peer"].sort_index().to_numpy())
    acc_peer = (peer_labels == crowd.true_labels).double().mean()
    return [Row(f"dawid_skene 100k tasks (acc {acc_ours:.4f} vs {acc_peer:.4f})",
                "crowd-kit DawidSkene", t_ours, t_peer, 0.1)]


def _hierarchical_seconds(depth, hidden=64, batch=256):
    """Seconds per example of forward + backward, flat softmax and path-only tree."""
    from xenthelpers import HierarchicalSoftmax, Taxonomy

    tree = Taxonomy.complete((2,) * depth)
    gen = torch.Generator().manual_seed(depth)
    h = torch.randn(batch, hidden, generator=gen).requires_grad_()
    y = torch.randint(0, tree.num_leaves, (batch,), generator=gen)
    flat, layer = torch.nn.Linear(hidden, tree.num_leaves), HierarchicalSoftmax(hidden, tree)

    def fresh(loss_fn, module):
        def run():
            # New gradients each call: accumulating into the previous ones would
            # add a pass over the whole weight matrix.
            module.zero_grad(set_to_none=True)
            h.grad = None
            loss_fn().backward()
        return run

    runs = {"flat": fresh(lambda: F.cross_entropy(flat(h), y), flat),
            "path": fresh(lambda: layer.loss(h, y), layer)}
    cpu = torch.device("cpu")
    return {name: median_seconds(run, device=cpu) / batch for name, run in runs.items()}


def hierarchical(device) -> list[Row]:
    """Flat softmax against the path-only tree, ``HierarchicalSoftmax.loss``.

    The hierarchical-classification chapter counts the arithmetic of the two output
    layers on binary trees exactly (2 log2 L logits per example against L); this case
    times them at L = 1024 and 16384 (h = 64, batch 256, the gradients of weights,
    biases and hidden vectors). It runs on one CPU thread whatever the device: the
    targets are about arithmetic per example, which one thread shows most plainly,
    while on a GPU kernel launches would dominate at these sizes. Targets: from
    L = 1024 to 16384 the flat layer's time grows at least 8-fold (proportional
    would be 16-fold) and the tree's by less than half as much; at L = 16384 the
    tree is more than twice as fast. Under ``python -m benchmarks`` large
    allocations are fresh mmaps (:data:`~benchmarks.harness.MALLOC_ENV`), which adds
    page faults to both layers' times.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mid, large = _hierarchical_seconds(10), _hierarchical_seconds(14)
    finally:
        torch.set_num_threads(threads)
    us = {"unit": "us/ex"}
    flat_growth = large["flat"] / mid["flat"]
    return [
        Row("flat softmax fwd+bwd, growth L 1024 -> 16384 (h=64, batch 256, CPU, 1 thread)",
            "itself at L=1024", 1e6 * large["flat"], 1e6 * mid["flat"], 8.0,
            at_least=True, **us),
        Row("HierarchicalSoftmax.loss fwd+bwd, growth L 1024 -> 16384 (< half the flat's)",
            "itself at L=1024", 1e6 * large["path"], 1e6 * mid["path"], flat_growth / 2, **us),
        Row("HierarchicalSoftmax.loss fwd+bwd at L=16384 (binary tree)",
            "nn.Linear + F.cross_entropy", 1e6 * large["path"], 1e6 * large["flat"], 0.5, **us),
    ]


CASES = [focal, validation, distillation, calibration, contrastive, crowds, hierarchical]
