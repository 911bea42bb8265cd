"""The knowledge-distillation loss."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional import kl_divergence

from xenthelpers import distillation_loss


def _logits(n=6, k=5, seed=0, scale=3.0):
    generator = torch.Generator().manual_seed(seed)
    student = scale * torch.randn(n, k, generator=generator, dtype=torch.float64)
    teacher = scale * torch.randn(n, k, generator=generator, dtype=torch.float64)
    return student, teacher


def _torch_kl(student, teacher, temperature, reduction):
    log_q = F.log_softmax(student / temperature, dim=1)
    p = F.softmax(teacher / temperature, dim=1)
    return F.kl_div(log_q, p, reduction=reduction) * temperature**2


# --- identities and cross-checks -----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean"])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
def test_matches_torch_kl_div(reduction, temperature):
    student, teacher = _logits()
    torch.testing.assert_close(
        distillation_loss(student, teacher, temperature=temperature, reduction=reduction),
        _torch_kl(student, teacher, temperature, reduction),
    )


def test_none_is_one_value_per_example():
    student, teacher = _logits()
    per_example = distillation_loss(student, teacher, temperature=2.0, reduction="none")
    assert per_example.shape == (6,)
    torch.testing.assert_close(per_example, _torch_kl(student, teacher, 2.0, "none").sum(dim=1))


def test_matches_torchmetrics_kl_divergence():
    student, teacher = _logits(seed=1)
    temperature = 3.0
    p = F.softmax(teacher / temperature, dim=1)
    q = F.softmax(student / temperature, dim=1)
    expected = kl_divergence(p, q, log_prob=False, reduction="none") * temperature**2
    ours = distillation_loss(student, teacher, temperature=temperature, reduction="none")
    torch.testing.assert_close(ours, expected)


@settings(max_examples=30)
@given(temperature=st.floats(0.2, 20.0), seed=st.integers(0, 2**16), shift=st.floats(-50, 50))
def test_non_negative_and_zero_only_for_the_same_distribution(temperature, seed, shift):
    student, teacher = _logits(seed=seed)
    loss = distillation_loss(student, teacher, temperature=temperature, reduction="none")
    assert (loss > 0).all()
    # Logits that differ by a constant per row give the same distribution.
    same = distillation_loss(teacher + shift, teacher, temperature=temperature, reduction="none")
    torch.testing.assert_close(same, torch.zeros(6, dtype=torch.float64), atol=1e-10, rtol=0)


# --- gradients --------------------------------------------------------------------------


@settings(max_examples=30)
@given(temperature=st.floats(0.2, 20.0), seed=st.integers(0, 2**16))
def test_student_gradient_is_temperature_times_q_minus_p(temperature, seed):
    student, teacher = _logits(seed=seed)
    student.requires_grad_()
    distillation_loss(student, teacher, temperature=temperature, reduction="sum").backward()
    q = F.softmax(student.detach() / temperature, dim=1)
    p = F.softmax(teacher / temperature, dim=1)
    torch.testing.assert_close(student.grad, temperature * (q - p))


def test_batchmean_gradient_is_divided_by_the_batch_size():
    student, teacher = _logits()
    student.requires_grad_()
    distillation_loss(student, teacher, temperature=2.0).backward()
    q = F.softmax(student.detach() / 2.0, dim=1)
    p = F.softmax(teacher / 2.0, dim=1)
    torch.testing.assert_close(student.grad, 2.0 * (q - p) / 6)


def test_high_temperature_gradient_approaches_logit_matching():
    student, teacher = _logits(k=10)
    student = student - student.mean(dim=1, keepdim=True)
    teacher = teacher - teacher.mean(dim=1, keepdim=True)

    def gap(temperature):
        z = student.clone().requires_grad_()
        distillation_loss(z, teacher, temperature=temperature, reduction="sum").backward()
        return float((z.grad - (student - teacher) / 10).abs().max())

    # T (q - p) = (z_s - z_t) / K + O(1 / T) for zero-mean logits.
    gaps = [gap(temperature) for temperature in (10.0, 100.0, 1000.0, 10000.0)]
    assert gaps[-1] < 1e-3
    for coarse, fine in zip(gaps, gaps[1:]):
        assert 8 < coarse / fine < 12


def test_teacher_gets_a_gradient_only_if_it_requires_one():
    student, teacher = _logits()
    student.requires_grad_()
    distillation_loss(student, teacher).backward()
    assert teacher.grad is None
    teacher.requires_grad_()
    distillation_loss(student, teacher).backward()
    assert teacher.grad is not None and teacher.grad.abs().sum() > 0


def test_gradcheck_in_both_arguments():
    student, teacher = _logits(n=3, k=4)
    student.requires_grad_()
    teacher.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda s, t: distillation_loss(s, t, temperature=2.0), (student, teacher)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_extreme_logits_give_finite_loss_and_gradient(dtype, temperature):
    student = torch.tensor(
        [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype, requires_grad=True
    )
    teacher = torch.tensor([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype)
    loss = distillation_loss(student, teacher, temperature=temperature, reduction="none")
    assert torch.isfinite(loss).all()
    assert loss[0].item() == 0.0
    # The teacher is sure of class 0, the student gives it log q = -2e4 / T.
    torch.testing.assert_close(loss[1], torch.tensor(2e4 * temperature, dtype=dtype))
    loss.sum().backward()
    assert torch.isfinite(student.grad).all()


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "student, teacher, kwargs, name",
    [
        (torch.zeros(3), torch.zeros(3), {}, "student_logits"),
        (torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), {}, "student_logits"),
        (torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3), {}, "student_logits"),
        (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long), {}, "teacher_logits"),
        (torch.zeros(2, 3), torch.zeros(2, 4), {}, "teacher_logits"),
        (torch.zeros(2, 3), torch.zeros(3, 3), {}, "teacher_logits"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": 0.0}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": -1.0}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": math.inf}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": math.nan}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": "4"}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"temperature": True}, "temperature"),
        (torch.zeros(2, 3), torch.zeros(2, 3), {"reduction": "avg"}, "reduction"),
        (torch.tensor([[0.0, math.nan]]), torch.zeros(1, 2), {}, "student_logits"),
        (torch.zeros(1, 2), torch.tensor([[0.0, -math.inf]]), {}, "teacher_logits"),
        (torch.zeros(1, 2), torch.tensor([[0.0, math.inf]]), {}, "teacher_logits"),
    ],
)
def test_invalid_inputs_name_the_argument(student, teacher, kwargs, name):
    with pytest.raises(ValueError, match=name):
        distillation_loss(student, teacher, **kwargs)


def test_batchmean_is_the_mean_of_the_per_example_losses():
    student, teacher = _logits()
    per_example = distillation_loss(student, teacher, reduction="none")
    torch.testing.assert_close(distillation_loss(student, teacher), per_example.mean())
    torch.testing.assert_close(
        distillation_loss(student, teacher, reduction="mean"), per_example.sum() / student.numel()
    )


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean"])
def test_empty_batch_reduces_as_kl_div_does(reduction):
    empty = torch.zeros(0, 5, dtype=torch.float64, requires_grad=True)
    ours = distillation_loss(empty, empty.detach(), reduction=reduction)
    theirs = _torch_kl(empty, empty.detach(), 4.0, reduction)
    torch.testing.assert_close(ours, theirs, equal_nan=True)  # NaN for the means, 0 for sum
    assert distillation_loss(empty, empty.detach(), reduction="none").shape == (0,)


def test_without_validation_non_finite_logits_are_not_checked():
    student = torch.tensor([[0.0, math.nan]])
    loss = distillation_loss(student, torch.zeros(1, 2), validate_args=False)
    assert loss.isnan()
