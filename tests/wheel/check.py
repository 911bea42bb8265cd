"""Build xenthelpers as a user gets it and import it where nothing else is installed.

``make test-wheel`` runs this with the project's interpreter. It builds the sdist and,
from the sdist, the wheel (``python -m build``); creates an empty virtual environment;
installs the wheel there with its own dependencies only, at the versions of
constraints.txt; and runs ``smoke.py`` in that environment.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("smoke.py")


def _run(*command: object, cwd: Path | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, check=True)


def main() -> None:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="xenthelpers-wheel-") as tmp:
        where = Path(tmp)
        _run(sys.executable, "-m", "build", "--outdir", where / "dist", ROOT)
        (wheel,) = (where / "dist").glob("xenthelpers-*.whl")
        built = time.monotonic()
        venv.EnvBuilder(with_pip=True).create(where / "venv")
        python = where / "venv" / "bin" / "python"
        pip = (python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet")
        _run(*pip, "-c", ROOT / "constraints.txt", wheel)
        _run(python, "-m", "pip", "--disable-pip-version-check", "check")
        installed = time.monotonic()
        # -I: neither the current directory nor PYTHON* variables can lend it a package.
        _run(python, "-I", SMOKE, cwd=where)
    print(
        f"wheel check passed in {time.monotonic() - start:.0f} s (build {built - start:.0f} s, "
        f"empty venv and install {installed - built:.0f} s)"
    )


if __name__ == "__main__":
    main()
