"""Seeding, device choice and the shared training loop."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from xenthelpers import fit, get_device, predict_logits, seed_everything


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


def test_seed_everything_returns_a_seeded_generator():
    a = torch.rand(3, generator=seed_everything(3))
    b = torch.rand(3, generator=seed_everything(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_get_device_defaults_to_cpu(monkeypatch):
    monkeypatch.delenv("XENT_DEVICE", raising=False)
    assert get_device() == torch.device("cpu")


def test_get_device_reads_the_environment(monkeypatch):
    # "meta" is a device on every machine, and not the default.
    monkeypatch.setenv("XENT_DEVICE", "meta")
    assert get_device() == torch.device("meta")
    assert get_device("cpu") == torch.device("cpu"), "an explicit preference wins"


def test_get_device_names_the_variable_it_could_not_read(monkeypatch):
    monkeypatch.setenv("XENT_DEVICE", "abacus")
    with pytest.raises(ValueError, match="XENT_DEVICE"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_get_device_refuses_missing_cuda(monkeypatch):
    monkeypatch.setenv("XENT_DEVICE", "cuda")
    with pytest.raises(ValueError, match="CUDA"):
        get_device()


def test_get_device_rejects_nonsense():
    with pytest.raises(ValueError, match="preference"):
        get_device("abacus")


def _logistic_problem(n=400):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = (x[:, 0] - x[:, 1] > 0).long()
    return x, y


def test_fit_learns_a_separable_problem():
    seed_everything(0)
    x, y = _logistic_problem()
    model = nn.Linear(2, 2)
    history = fit(model, nn.functional.cross_entropy, x, y, num_epochs=200, lr=0.1)
    accuracy = (predict_logits(model, x).argmax(1) == y).float().mean().item()
    assert history.loss[0] > history.final_loss
    assert accuracy > 0.97
    assert not model.training


def test_fit_shuffles_with_the_given_generator_only():
    x, y = _logistic_problem()

    def run(shuffle_seed, global_seed):
        torch.manual_seed(1)
        model = nn.Linear(2, 2)  # the same initial weights in every run
        # fit draws nothing from the global generator: a different global state
        # must not change the result when a generator is given.
        torch.manual_seed(global_seed)
        fit(model, nn.functional.cross_entropy, x, y, num_epochs=5, batch_size=32,
            generator=torch.Generator().manual_seed(shuffle_seed))
        return model.weight.detach().clone()

    reference = run(shuffle_seed=1, global_seed=10)
    assert torch.equal(run(shuffle_seed=1, global_seed=20), reference)
    assert not torch.equal(run(shuffle_seed=2, global_seed=10), reference)


def test_fit_applies_the_batch_transform():
    x, y = _logistic_problem(64)
    seen = []

    def record(xb, yb):
        seen.append(len(xb))
        return xb, yb

    fit(nn.Linear(2, 2), nn.functional.cross_entropy, x, y, num_epochs=2, batch_size=16,
        transform=record)
    assert seen == [16] * 8


@pytest.mark.parametrize(
    "kwargs, name",
    [({"num_epochs": 0}, "num_epochs"), ({"lr": 0.0}, "lr"), ({"batch_size": 0}, "batch_size"),
     ({"weight_decay": -1.0}, "weight_decay"), ({"optimizer": "rmsprop"}, "optimizer")],
)
def test_fit_validates_its_options(kwargs, name):
    x, y = _logistic_problem(8)
    with pytest.raises(ValueError, match=name):
        fit(nn.Linear(2, 2), nn.functional.cross_entropy, x, y, **kwargs)


def test_fit_rejects_mismatched_data():
    x, y = _logistic_problem(8)
    with pytest.raises(ValueError, match="targets"):
        fit(nn.Linear(2, 2), nn.functional.cross_entropy, x, y[:4])


def test_predict_logits_restores_training_mode_and_batches():
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    model.train()
    x, _ = _logistic_problem(10)
    out = predict_logits(model, x, batch_size=3)
    assert out.shape == (10, 2) and model.training
    # Batches of 3 and of 10 take different matmul kernels on some CPUs: equal up to
    # float32 rounding, not bit for bit. Dropout at p = 0.5 would differ by O(1).
    torch.testing.assert_close(out, predict_logits(model, x))
    with torch.no_grad():
        torch.testing.assert_close(out, model.eval()(x))
