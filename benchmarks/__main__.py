"""`make bench`: our helpers against their peers, forward + backward, median of repeats.

Prints a table and writes it to benchmarks/results/ (Markdown and JSON). Exits with
status 1 if a target is missed, so a regression is visible.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from benchmarks.cases import CASES
from benchmarks.harness import MALLOC_ENV
from xenthelpers import get_device

RESULTS = Path(__file__).parent / "results"


def _table(rows) -> str:
    lines = ["| case | peer | ours | peer | ratio | target | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | :---: |"]
    for r in rows:
        lines.append(f"| {r.case} | {r.peer} | {r.ours:.2f} {r.unit} | {r.theirs:.2f} {r.unit}"
                     f" | {r.ratio:.2f}x | <= {r.target:g}x | {'yes' if r.met else 'NO'} |")
    return "\n".join(lines)


def main() -> int:
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        # Restart with the allocator settings that make CPU peak memory measurable.
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks"],
                  os.environ | MALLOC_ENV)
    device = get_device()
    torch.manual_seed(0)
    header = (f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, "
              f"{platform.processor() or platform.machine()}, float32")
    rows = [row for case in CASES for row in case(device)]
    table = _table(rows)
    print(header, table, sep="\n\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{device.type}.md").write_text(f"{header}\n\n{table}\n")
    payload = {"header": header, "rows": [asdict(r) | {"ratio": r.ratio} for r in rows]}
    (RESULTS / f"bench-{device.type}.json").write_text(json.dumps(payload, indent=2))
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
