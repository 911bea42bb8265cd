"""The devices that device-parametrised unit tests run on.

``@pytest.mark.parametrize("device", DEVICES)`` runs a test on the CPU always and on
CUDA where a GPU is present; elsewhere the CUDA case is reported as skipped, so a CPU
run shows how many GPU checks it did not make.
"""

import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    ),
]
