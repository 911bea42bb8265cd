"""Smoke test of the installed wheel, run by check.py in a venv holding nothing else.

Only the package's own dependencies (torch, numpy, scipy, tqdm) are installed there,
none of the book's extras.
"""

import importlib
import importlib.util
from importlib import metadata
from pathlib import Path

for extra in ("matplotlib", "seaborn", "pandas", "sklearn"):
    assert importlib.util.find_spec(extra) is None, f"{extra} is installed: not the package alone"

import torch  # noqa: E402

import xenthelpers  # noqa: E402
from xenthelpers import focal_loss  # noqa: E402

package = Path(xenthelpers.__file__).resolve().parent
assert package.parent.name == "site-packages", f"imported from {package}, not from the wheel"
assert metadata.version("xenthelpers") == xenthelpers.__version__
assert (package / "py.typed").is_file(), "the wheel lacks py.typed"
outside = [f for f in metadata.files("xenthelpers") or [] if not str(f).startswith("xenthelpers")]
assert not outside, f"the wheel installs files outside the package: {outside}"

for module in ("crowds", "data", "losses", "metrics", "targets", "training"):
    importlib.import_module(f"xenthelpers.{module}")
try:
    importlib.import_module("xenthelpers.plotting")
except ImportError as error:  # names what is missing and the extra that brings it
    assert "matplotlib" in str(error) and "xenthelpers[book]" in str(error), error
else:
    raise AssertionError("xenthelpers.plotting imported without matplotlib and seaborn")

logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.5, 0.0]], requires_grad=True)
target = torch.tensor([0, 2])
loss = focal_loss(logits, target, gamma=0.0)  # gamma = 0 is plain cross-entropy
torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, target))
loss.backward()
assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())
print(f"xenthelpers {xenthelpers.__version__} from the wheel, torch {torch.__version__}: ok")
