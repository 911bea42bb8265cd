"""Timing and peak-memory measurement for `make bench`.

Time is the median wall-clock time of repeated calls in one process, after warm-up.
Peak memory on the CPU is the rise of the process's resident-set high-water mark
(Linux ``VmHWM``, reset through ``/proc/self/clear_refs``) over the memory held
before the call; on CUDA it is ``torch.cuda.max_memory_allocated``. The CPU figure is
only meaningful when freed tensors go back to the operating system at once, which
``python -m benchmarks`` ensures by fixing glibc's mmap threshold (see
:data:`MALLOC_ENV`) before anything is allocated.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
#: Allocations of 64 KiB and more are served by mmap and unmapped when freed, so the
#: resident set follows the live tensors instead of glibc's cached heap.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(
    fn: Callable[[], object], *, device: torch.device, repeats: int = 20, warmup: int = 3
) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_median_seconds(
    fns: dict[str, Callable[[], object]],
    *,
    device: torch.device,
    rounds: int = 200,
    warmup: int = 5,
) -> dict[str, float]:
    """Median seconds of each function, calling them in turn ``rounds`` times.

    Taking turns exposes every function to the same background load, so that the
    ratio of two medians stays stable on a busy machine even when absolute times
    drift.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _status_kib(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in {STATUS}")


def peak_bytes(fn: Callable[[], object], *, device: torch.device) -> float | None:
    """Extra memory at the peak of one call of ``fn()``, or ``None`` where unmeasurable."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return float(torch.cuda.max_memory_allocated(device) - before)
    if not CLEAR_REFS.exists():
        return None
    fn()  # warm-up: lazily created buffers are not part of the peak
    gc.collect()
    CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident set
    before = _status_kib("VmRSS")
    fn()
    return float(_status_kib("VmHWM") - before) * 1024


def forward_backward(loss_fn: Callable[..., torch.Tensor], *inputs: torch.Tensor):
    """A closure running ``loss_fn(*inputs).backward()`` with fresh gradients."""

    def run():
        for tensor in inputs:
            tensor.grad = None
        loss_fn(*inputs).backward()

    return run
