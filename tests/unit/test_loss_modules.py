"""The ``nn.Module`` wrappers of the losses."""

import importlib
import inspect
import math
import pkgutil

import pytest
import torch

import xenthelpers
from xenthelpers import (
    DistillationLoss,
    FocalLoss,
    InfoNCELoss,
    LogitAdjustedCrossEntropyLoss,
    MaskedBCEWithLogitsLoss,
    SigmoidFocalLoss,
    distillation_loss,
    focal_loss,
    info_nce,
    logit_adjusted_cross_entropy,
    masked_binary_cross_entropy,
    sigmoid_focal_loss,
)

GENERATOR = torch.Generator().manual_seed(0)
LOGITS = torch.randn(6, 4, generator=GENERATOR)
TARGET = torch.tensor([0, 1, 2, 3, -100, 1])
BINARY_TARGET = torch.randint(0, 2, (6, 4), generator=GENERATOR).float()
MASK = torch.rand(6, 4, generator=GENERATOR) > 0.3
OTHER = torch.randn(6, 4, generator=GENERATOR)
PRIOR = torch.tensor([0.4, 0.3, 0.2, 0.1])
ALPHA = torch.tensor([0.25, 0.5, 1.0, 2.0])

CASES = [
    (
        FocalLoss(gamma=1.5, weight=ALPHA, reduction="sum"),
        (LOGITS, TARGET),
        lambda: focal_loss(LOGITS, TARGET, gamma=1.5, weight=ALPHA, reduction="sum"),
    ),
    (
        FocalLoss(gamma=0.5, ignore_index=1),
        (LOGITS, TARGET.clamp(min=0)),
        lambda: focal_loss(LOGITS, TARGET.clamp(min=0), gamma=0.5, ignore_index=1),
    ),
    (
        SigmoidFocalLoss(gamma=0.5, alpha=None, reduction="none"),
        (LOGITS, BINARY_TARGET),
        lambda: sigmoid_focal_loss(LOGITS, BINARY_TARGET, gamma=0.5, alpha=None, reduction="none"),
    ),
    (
        DistillationLoss(temperature=2.5, reduction="sum"),
        (LOGITS, OTHER),
        lambda: distillation_loss(LOGITS, OTHER, temperature=2.5, reduction="sum"),
    ),
    (
        InfoNCELoss(temperature=0.3, normalize=False),
        (LOGITS, OTHER),
        lambda: info_nce(LOGITS, OTHER, temperature=0.3, normalize=False),
    ),
    (
        LogitAdjustedCrossEntropyLoss(PRIOR, tau=0.5, reduction="none"),
        (LOGITS, TARGET.clamp(min=0)),
        lambda: logit_adjusted_cross_entropy(
            LOGITS, TARGET.clamp(min=0), PRIOR, tau=0.5, reduction="none"
        ),
    ),
    (
        MaskedBCEWithLogitsLoss(reduction="sum"),
        (LOGITS, BINARY_TARGET, MASK),
        lambda: masked_binary_cross_entropy(LOGITS, BINARY_TARGET, MASK, reduction="sum"),
    ),
]


@pytest.mark.parametrize("module, inputs, function", CASES, ids=lambda c: type(c).__name__)
def test_module_calls_its_function_with_its_options(module, inputs, function):
    torch.testing.assert_close(module(*inputs), function(), rtol=0, atol=0)


@pytest.mark.parametrize(
    "module, text",
    [
        (FocalLoss(), "FocalLoss(gamma=2.0, weight=None, ignore_index=-100, reduction='mean')"),
        (
            FocalLoss(weight=torch.tensor([0.25, 0.75])),
            "FocalLoss(gamma=2.0, weight=[0.25, 0.75], ignore_index=-100, reduction='mean')",
        ),
        (FocalLoss(weight=torch.ones(10)), "weight=<10 values>"),
        (
            SigmoidFocalLoss(alpha=None),
            "SigmoidFocalLoss(gamma=2.0, alpha=None, reduction='mean')",
        ),
        (DistillationLoss(), "DistillationLoss(temperature=4.0, reduction='batchmean')"),
        (InfoNCELoss(), "InfoNCELoss(temperature=0.1, normalize=True, reduction='mean')"),
        (
            LogitAdjustedCrossEntropyLoss(torch.tensor([0.5, 0.5]), tau=2),
            "LogitAdjustedCrossEntropyLoss(prior=[0.5, 0.5], tau=2.0, reduction='mean')",
        ),
        (MaskedBCEWithLogitsLoss(reduction="none"), "MaskedBCEWithLogitsLoss(reduction='none')"),
    ],
)
def test_repr_shows_the_options(module, text):
    assert text in repr(module)


def test_tensor_options_are_buffers_that_follow_the_module():
    focal = FocalLoss(weight=ALPHA).double()
    adjusted = LogitAdjustedCrossEntropyLoss(PRIOR).double()
    assert focal.weight.dtype == torch.float64 and adjusted.prior.dtype == torch.float64
    assert "weight" in focal.state_dict() and "prior" in adjusted.state_dict()
    assert not list(focal.parameters()) and not list(adjusted.parameters())


def test_gradients_flow_through_a_module():
    logits = LOGITS.clone().requires_grad_()
    FocalLoss()(logits, TARGET).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize(
    "factory, name",
    [
        (lambda: FocalLoss(gamma=-1.0), "gamma"),
        (lambda: FocalLoss(weight=torch.tensor([-1.0, 1.0])), "weight"),
        (lambda: FocalLoss(weight=torch.ones(2, 2)), "weight"),
        (lambda: FocalLoss(reduction="batchmean"), "reduction"),
        (lambda: SigmoidFocalLoss(alpha=1.5), "alpha"),
        (lambda: SigmoidFocalLoss(gamma=math.nan), "gamma"),
        (lambda: SigmoidFocalLoss(reduction="avg"), "reduction"),
        (lambda: DistillationLoss(temperature=0.0), "temperature"),
        (lambda: DistillationLoss(reduction="avg"), "reduction"),
        (lambda: InfoNCELoss(temperature=-1.0), "temperature"),
        (lambda: InfoNCELoss(normalize="yes"), "normalize"),
        (lambda: InfoNCELoss(reduction="batchmean"), "reduction"),
        (lambda: LogitAdjustedCrossEntropyLoss(torch.tensor([0.5, 0.6])), "prior"),
        (lambda: LogitAdjustedCrossEntropyLoss(torch.tensor([1.0, 0.0])), "prior"),
        (lambda: LogitAdjustedCrossEntropyLoss(PRIOR, tau=-1.0), "tau"),
        (lambda: LogitAdjustedCrossEntropyLoss(PRIOR, reduction="avg"), "reduction"),
        (lambda: MaskedBCEWithLogitsLoss(reduction="batchmean"), "reduction"),
    ],
)
def test_options_are_validated_in_init(factory, name):
    with pytest.raises(ValueError, match=name):
        factory()


def test_forward_still_validates_the_tensors():
    with pytest.raises(ValueError, match="weight"):
        FocalLoss(weight=torch.ones(3))(LOGITS, TARGET)


def test_the_old_name_of_focal_weight_still_works_with_a_warning():
    with pytest.warns(DeprecationWarning, match="weight"):
        old = focal_loss(LOGITS, TARGET, alpha=ALPHA)
    torch.testing.assert_close(old, focal_loss(LOGITS, TARGET, weight=ALPHA))
    with pytest.warns(DeprecationWarning, match="weight"):
        module = FocalLoss(alpha=ALPHA)
    torch.testing.assert_close(module(LOGITS, TARGET), old)


def _public_names_defined_in(package) -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        names |= {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
            and (inspect.isclass(value) or inspect.isfunction(value))
        }
    return names


def test_every_loss_is_exported_at_the_top_level():
    exported = set(xenthelpers.losses.__all__)
    structures = set(xenthelpers.losses.DATA_STRUCTURES)  # not losses, exported apart
    assert exported.isdisjoint(structures)
    assert exported | structures == _public_names_defined_in(xenthelpers.losses)
    assert exported | structures <= set(xenthelpers.__all__)


def test_every_wrapper_lives_beside_its_function_and_passes_validate_args():
    from xenthelpers.losses._module import LossModule

    wrappers = [getattr(xenthelpers.losses, name) for name in xenthelpers.losses.__all__]
    wrappers = [cls for cls in wrappers if inspect.isclass(cls) and issubclass(cls, LossModule)]
    assert {cls.__name__ for cls in wrappers} >= {type(module).__name__ for module, _, _ in CASES}
    for cls in wrappers:
        assert cls.__module__ == cls.function.__module__, cls
        assert "validate_args" in inspect.signature(cls).parameters, cls


def test_a_module_without_validation_reads_nothing_back():
    logits = torch.tensor([[0.0, math.nan]])
    loss = SigmoidFocalLoss(validate_args=False)(logits, torch.zeros(1, 2))
    assert loss.isnan()
    with pytest.raises(ValueError, match="logits"):
        SigmoidFocalLoss()(logits, torch.zeros(1, 2))
