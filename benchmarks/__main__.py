"""`make bench`: our helpers against their peers, forward + backward, median of repeats.

Prints a table and writes it to benchmarks/results/ (Markdown and JSON). Exits with
status 1 if a target is missed, so a regression is visible. Name cases to run only
those (``python -m benchmarks hierarchical``); their results are written to files named
after them, so that the full run's table is kept.
"""

from __future__ import annotations

import argparse
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
        bound = ">=" if r.at_least else "<="
        lines.append(f"| {r.case} | {r.peer} | {r.ours:.2f} {r.unit} | {r.theirs:.2f} {r.unit}"
                     f" | {r.ratio:.2f}x | {bound} {r.target:.3g}x | {'yes' if r.met else 'NO'} |")
    return "\n".join(lines)


def _parse(argv: list[str]) -> list:
    names = {case.__name__: case for case in CASES}
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", metavar="case",
                        help=f"cases to run (default: all): {', '.join(names)}")
    chosen = parser.parse_args(argv).cases
    unknown = [name for name in chosen if name not in names]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    return [names[name] for name in chosen] if chosen else list(CASES)


def main() -> int:
    cases = _parse(sys.argv[1:])
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        # Restart with the allocator settings that make CPU peak memory measurable.
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *sys.argv[1:]],
                  os.environ | MALLOC_ENV)
    device = get_device()
    torch.manual_seed(0)
    header = (f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, "
              f"{platform.processor() or platform.machine()}, float32")
    rows = [row for case in cases for row in case(device)]
    table = _table(rows)
    print(header, table, sep="\n\n")
    RESULTS.mkdir(exist_ok=True)
    stem = f"bench-{device.type}"
    if cases != CASES:
        stem += "-" + "-".join(case.__name__ for case in cases)
    (RESULTS / f"{stem}.md").write_text(f"{header}\n\n{table}\n")
    payload = {"header": header, "rows": [asdict(r) | {"ratio": r.ratio} for r in rows]}
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2))
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
