"""Modules and names that moved keep working for one release, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import xenthelpers
import xenthelpers.data
import xenthelpers.training

MOVED_MODULES = [
    ("xenthelpers.training.seeds", "xenthelpers.metrics.over_seeds", ["mean_sd"]),
    ("xenthelpers.training.reproducibility", "xenthelpers.training.seeding", ["seed_everything"]),
    ("xenthelpers.training.per_seed", "xenthelpers.training.stacked_samples", ["sample_per_seed"]),
    (
        "xenthelpers.data.synthetic",
        "xenthelpers.data.gaussian_classes",
        ["GaussianClasses", "make_gaussian_classes"],
    ),
    (
        "xenthelpers.data.imbalanced",
        "xenthelpers.data.rare_positives",
        ["COMPONENTS", "RarePositives", "RarePositivesSample"],
    ),
    (
        "xenthelpers.data.crowds",
        "xenthelpers.data.simulated_crowd",
        ["WORKER_KINDS", "SimulatedCrowd", "simulate_crowd", "worker_confusion_matrix"],
    ),
]


def _import_fresh(name):
    sys.modules.pop(name, None)
    parent, _, child = name.rpartition(".")
    if hasattr(sys.modules[parent], child):
        delattr(sys.modules[parent], child)
    __import__(name)  # as an import statement does, with no Python frame in between
    return sys.modules[name]


@pytest.mark.parametrize(("old", "new", "names"), MOVED_MODULES, ids=lambda v: str(v))
def test_an_old_module_warns_and_reexports_the_same_objects(old, new, names):
    with pytest.warns(DeprecationWarning, match=new.rpartition(".")[2]) as record:
        module = _import_fresh(old)
    assert record[0].filename == __file__  # the warning points at the importing line
    target = importlib.import_module(new)
    assert sorted(module.__all__) == sorted(names)
    for name in names:
        assert getattr(module, name) is getattr(target, name)


def test_the_package_imports_no_old_module():
    old = [name for name, _, _ in MOVED_MODULES]
    code = (
        "import sys, xenthelpers, xenthelpers.data, xenthelpers.training\n"
        "from xenthelpers import *\n"
        "from xenthelpers.training import *\n"
        f"assert not [m for m in {old!r} if m in sys.modules]"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_mean_sd_from_training_warns_and_is_the_metrics_function():
    with pytest.warns(DeprecationWarning, match="xenthelpers.metrics") as record:
        from xenthelpers.training import mean_sd
    assert mean_sd is xenthelpers.metrics.mean_sd
    assert all(w.filename == __file__ for w in record)
    with pytest.warns(DeprecationWarning):
        assert xenthelpers.training.mean_sd([1.0, 3.0]) == "2.000 ± 1.414"


def test_other_missing_names_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        xenthelpers.training.no_such_name  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        exec("from xenthelpers.training import *", {})  # the public names only
