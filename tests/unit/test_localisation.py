"""Tests for xenthelpers.data.localisation."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from xenthelpers.data.localisation import (
    COMPARTMENTS,
    DUAL_PAIRS,
    LocalisationSample,
    ProteinLocalisation,
    make_protein_localisation,
)


def draw(problem, num_samples, seed=0):
    return problem.sample(num_samples, generator=torch.Generator().manual_seed(seed))


def small_problem(**options):
    """Two compartments, all three label sets, float64."""
    defaults = {"priors": torch.tensor([0.3, 0.3, 0.4], dtype=torch.float64),
                "compartments": ("nucleus", "cytoplasm")}
    defaults.update(options)
    return ProteinLocalisation(
        torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.5, 0.0]], dtype=torch.float64),
        torch.tensor([[1, 0], [0, 1], [1, 1]]),
        **defaults,
    )


# ---------------------------------------------------------------- make_protein_localisation


def test_default_problem_layout():
    problem = make_protein_localisation()
    assert problem.compartments == COMPARTMENTS
    assert problem.num_compartments == 4 and problem.num_label_sets == 4 + len(DUAL_PAIRS)
    assert problem.dim == 4 * 4 + 4
    assert problem.signatures.dtype == torch.float32
    torch.testing.assert_close(problem.label_sets[:4], torch.eye(4))
    for row, (a, b) in zip(problem.label_sets[4:], DUAL_PAIRS):
        expected = torch.zeros(4)
        expected[[COMPARTMENTS.index(a), COMPARTMENTS.index(b)]] = 1.0
        torch.testing.assert_close(row, expected)
    torch.testing.assert_close(problem.priors.sum(), torch.tensor(1.0))
    torch.testing.assert_close(problem.priors[4:].sum(), torch.tensor(0.3))


def test_block_signatures_have_the_signal_as_norm():
    problem = make_protein_localisation(signal=[1.0, 2.0, 0.0, 4.0], features_per_compartment=3,
                                        noise_features=2, dtype=torch.float64)
    torch.testing.assert_close(problem.signatures.norm(dim=1),
                               torch.tensor([1.0, 2.0, 0.0, 4.0], dtype=torch.float64))
    support = problem.signatures != 0
    assert support[:, -2:].sum() == 0  # the noise coordinates carry nothing
    for k in (0, 1, 3):
        assert support[k].nonzero().flatten().tolist() == list(range(3 * k, 3 * k + 3))


def test_union_and_mixture_means():
    union = make_protein_localisation(features_per_compartment=1, noise_features=0)
    mixture = make_protein_localisation(features_per_compartment=1, noise_features=0,
                                        combine="mixture")
    torch.testing.assert_close(union.means[4], torch.tensor([3.0, 3.0, 0.0, 0.0]))
    torch.testing.assert_close(mixture.means[4], torch.tensor([1.5, 1.5, 0.0, 0.0]))
    torch.testing.assert_close(union.means[:4], mixture.means[:4])


def test_explicit_set_priors_and_dual_fraction():
    priors = torch.tensor([0.05, 0.05, 0.45, 0.45])
    problem = make_protein_localisation(compartments=("n", "c", "m"), dual_pairs=[("n", "c")],
                                        set_priors=priors)
    torch.testing.assert_close(problem.priors, priors)
    single_only = make_protein_localisation(dual_pairs=[], dual_fraction=0.0)
    assert single_only.num_label_sets == 4
    torch.testing.assert_close(single_only.priors, torch.full((4,), 0.25))


# ---------------------------------------------------------------- sampling


def test_sample_shapes_types_and_consistency():
    problem = make_protein_localisation()
    sample = draw(problem, 500)
    assert isinstance(sample, LocalisationSample)
    assert sample.inputs.shape == (500, problem.dim) and sample.inputs.dtype == torch.float32
    assert sample.labels.shape == (500, 4) and sample.labels.dtype == torch.float32
    assert sample.label_set.shape == (500,) and sample.label_set.dtype == torch.long
    torch.testing.assert_close(sample.labels, problem.label_sets[sample.label_set])
    assert set(sample.labels.sum(dim=1).tolist()) <= {1.0, 2.0}


def test_sample_is_reproducible_and_seed_dependent():
    problem = make_protein_localisation()
    a, b, c = draw(problem, 50, seed=3), draw(problem, 50, seed=3), draw(problem, 50, seed=4)
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.equal(a.inputs, c.inputs)


def test_label_set_frequencies_match_the_priors():
    problem = make_protein_localisation()
    n = 40_000
    counts = torch.bincount(draw(problem, n).label_set, minlength=problem.num_label_sets)
    freq = counts.double() / n
    priors = problem.priors.double()
    se = (priors * (1 - priors) / n).sqrt()
    assert bool(((freq - priors).abs() < 5 * se).all())  # 5 standard errors


def test_conditional_means_and_noise_scale():
    problem = make_protein_localisation(scale=0.5, dtype=torch.float64)
    sample = draw(problem, 40_000)
    for set_index in range(problem.num_label_sets):
        rows = sample.inputs[sample.label_set == set_index]
        se = 0.5 / math.sqrt(len(rows))
        assert (rows.mean(0) - problem.means[set_index]).abs().max() < 5 * se
    residual = sample.inputs - problem.means[sample.label_set]
    assert abs(residual.std().item() - 0.5) < 0.01


# ---------------------------------------------------------------- posteriors


def test_label_set_posterior_matches_scipy():
    problem = small_problem(scale=0.8)
    x = draw(problem, 200).inputs
    log_joint = torch.stack([
        torch.from_numpy(multivariate_normal(problem.means[l].numpy(), 0.64).logpdf(x.numpy()))
        + problem.priors[l].log()
        for l in range(problem.num_label_sets)
    ], dim=1)
    expected = torch.softmax(log_joint, dim=1)
    torch.testing.assert_close(problem.label_set_posterior(x), expected, rtol=1e-10, atol=1e-12)


def test_marginals_sum_the_sets_containing_each_compartment():
    problem = small_problem()
    x = draw(problem, 100).inputs
    post = problem.label_set_posterior(x)
    marginals = problem.marginals(x)
    torch.testing.assert_close(marginals[:, 0], post[:, 0] + post[:, 2])
    torch.testing.assert_close(marginals[:, 1], post[:, 1] + post[:, 2])


def test_pair_posterior_cells_and_consistency():
    problem = make_protein_localisation(dtype=torch.float64)
    x = draw(problem, 300).inputs
    joint = problem.pair_posterior(x, "nucleus", "cytoplasm")
    assert joint.shape == (300, 4)
    torch.testing.assert_close(joint.sum(dim=1), torch.ones(300, dtype=torch.float64))
    marginals = problem.marginals(x)
    torch.testing.assert_close(joint[:, 2] + joint[:, 3], marginals[:, 0])
    torch.testing.assert_close(joint[:, 1] + joint[:, 3], marginals[:, 1])
    post = problem.label_set_posterior(x)
    torch.testing.assert_close(joint[:, 3], post[:, 4])  # only {nucleus, cytoplasm}
    torch.testing.assert_close(joint[:, 0], post[:, 2] + post[:, 3])  # mito or membrane only
    # By index and by name, and with the roles swapped.
    torch.testing.assert_close(problem.pair_posterior(x, 0, 1), joint)
    swapped = problem.pair_posterior(x, "cytoplasm", "nucleus")
    torch.testing.assert_close(swapped, joint[:, [0, 2, 1, 3]])


def test_posterior_is_calibrated_on_samples():
    """Among proteins with P(y_k = 1 | x) in a bin, the share in k matches the bin mean."""
    problem = make_protein_localisation(signal=1.5, dtype=torch.float64)
    sample = draw(problem, 40_000)
    p, y = problem.marginals(sample.inputs).flatten(), sample.labels.flatten()
    for low in (0.2, 0.4, 0.6):
        chosen = (p >= low) & (p < low + 0.2)
        n = int(chosen.sum())
        mean_p = p[chosen].mean().item()
        se = math.sqrt(mean_p * (1 - mean_p) / n)
        assert abs(y[chosen].mean().item() - mean_p) < 5 * se


def test_posterior_keeps_the_input_dtype_and_device():
    problem = make_protein_localisation()
    x = torch.zeros(3, problem.dim, dtype=torch.float64)
    assert problem.marginals(x).dtype == torch.float64
    assert problem.pair_posterior(x, 0, 1).dtype == torch.float64


def test_zero_prior_set_never_occurs_and_has_zero_posterior():
    problem = small_problem(priors=torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64))
    sample = draw(problem, 2000)
    assert int((sample.label_set == 2).sum()) == 0
    assert float(problem.label_set_posterior(sample.inputs)[:, 2].max()) == 0.0


def test_extreme_inputs_stay_finite():
    problem = make_protein_localisation()
    x = torch.full((2, problem.dim), 1e4)
    x[1] *= -1
    for result in (problem.marginals(x), problem.pair_posterior(x, 0, 1)):
        assert bool(torch.isfinite(result).all())


@given(
    signal=st.floats(0.0, 5.0),
    scale=st.floats(0.2, 3.0),
    dual_fraction=st.floats(0.0, 1.0),
    combine=st.sampled_from(["union", "mixture"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_marginals_are_probabilities(signal, scale, dual_fraction, combine, seed):
    problem = make_protein_localisation(signal=signal, scale=scale, dual_fraction=dual_fraction,
                                        combine=combine, dtype=torch.float64)
    x = draw(problem, 64, seed=seed).inputs
    marginals = problem.marginals(x)
    assert bool(((marginals >= 0) & (marginals <= 1 + 1e-12)).all())
    # Every protein is in one or two compartments, so the marginals sum to 1 + P(dual | x).
    total = marginals.sum(dim=1)
    dual = problem.label_set_posterior(x)[:, 4:].sum(dim=1)
    torch.testing.assert_close(total, 1 + dual)


# ---------------------------------------------------------------- repr and index


def test_repr_and_index():
    problem = make_protein_localisation()
    assert "nucleus" in repr(problem) and "union" in repr(problem)
    assert problem.index("membrane") == 3 and problem.index(2) == 2
    assert small_problem(compartments=None).compartments == ("c0", "c1")


# ---------------------------------------------------------------- validation: class


def test_signatures_must_be_floating():
    with pytest.raises(ValueError, match="`signatures`"):
        ProteinLocalisation(torch.tensor([[1, 0], [0, 1]]), torch.eye(2))


def test_signatures_must_be_two_dimensional():
    with pytest.raises(ValueError, match="`signatures`"):
        ProteinLocalisation(torch.ones(3), torch.eye(3))


def test_label_sets_shape():
    with pytest.raises(ValueError, match="`label_sets` must have shape"):
        ProteinLocalisation(torch.eye(2), torch.ones(3, 3))


def test_label_sets_binary():
    with pytest.raises(ValueError, match="zeros and ones"):
        ProteinLocalisation(torch.eye(2), torch.tensor([[1.0, 0.5]]))


def test_label_sets_not_empty():
    with pytest.raises(ValueError, match="empty set"):
        ProteinLocalisation(torch.eye(2), torch.tensor([[1, 0], [0, 0]]))


def test_label_sets_distinct():
    with pytest.raises(ValueError, match="same set twice"):
        ProteinLocalisation(torch.eye(2), torch.tensor([[1, 0], [1, 0]]))


def test_priors_shape():
    with pytest.raises(ValueError, match="`priors` must have shape"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), priors=torch.ones(3) / 3)


def test_priors_sum_to_one():
    with pytest.raises(ValueError, match="`priors`"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), priors=torch.tensor([0.5, 0.6]))


def test_scale_positive():
    with pytest.raises(ValueError, match="`scale`"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), scale=0.0)


def test_combine_mode():
    with pytest.raises(ValueError, match="`combine`"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), combine="intersection")


def test_compartment_names_count():
    with pytest.raises(ValueError, match="`compartments` must name 2"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), compartments=("a", "b", "c"))


def test_compartment_names_distinct():
    with pytest.raises(ValueError, match="distinct"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), compartments=("a", "a"))


def test_compartment_names_are_strings():
    with pytest.raises(ValueError, match="non-empty strings"):
        ProteinLocalisation(torch.eye(2), torch.eye(2), compartments=("a", 1))


def test_index_unknown_name():
    with pytest.raises(ValueError, match="`compartment`"):
        small_problem().index("golgi")


def test_index_out_of_range():
    with pytest.raises(ValueError, match="`compartment` must lie"):
        small_problem().index(2)


def test_index_wrong_type():
    with pytest.raises(ValueError, match="`compartment` must be a name or an index"):
        small_problem().index(1.0)


def test_pair_posterior_needs_two_compartments():
    problem = small_problem()
    with pytest.raises(ValueError, match="must differ"):
        problem.pair_posterior(torch.zeros(1, 3, dtype=torch.float64), "nucleus", 0)


def test_sample_size():
    with pytest.raises(ValueError, match="`num_samples`"):
        small_problem().sample(0)


def test_inputs_shape():
    with pytest.raises(ValueError, match="`inputs`"):
        small_problem().marginals(torch.zeros(4, 2, dtype=torch.float64))


def test_inputs_floating():
    with pytest.raises(ValueError, match="`inputs`"):
        small_problem().marginals(torch.zeros(4, 3, dtype=torch.long))


# ---------------------------------------------------------------- validation: factory


def test_factory_compartments_at_least_two():
    with pytest.raises(ValueError, match="at least 2"):
        make_protein_localisation(compartments=("nucleus",), dual_pairs=[], dual_fraction=0.0)


def test_factory_compartments_not_a_string():
    with pytest.raises(ValueError, match="`compartments` must be a sequence"):
        make_protein_localisation(compartments="nucleus")


def test_factory_pair_unknown_name():
    with pytest.raises(ValueError, match="`dual_pairs` names a compartment"):
        make_protein_localisation(dual_pairs=[("nucleus", "golgi")])


def test_factory_pair_with_itself():
    with pytest.raises(ValueError, match="two different compartments"):
        make_protein_localisation(dual_pairs=[("nucleus", "nucleus")])


def test_factory_pair_repeated():
    with pytest.raises(ValueError, match="twice"):
        make_protein_localisation(dual_pairs=[("nucleus", "cytoplasm"), ("cytoplasm", "nucleus")])


def test_factory_pair_not_a_pair():
    with pytest.raises(ValueError, match="pairs of names"):
        make_protein_localisation(dual_pairs=[("nucleus", "cytoplasm", "membrane")])


def test_factory_pairs_not_a_sequence():
    with pytest.raises(ValueError, match="`dual_pairs` must be a sequence"):
        make_protein_localisation(dual_pairs="nucleus")


def test_factory_dual_fraction_range():
    with pytest.raises(ValueError, match="`dual_fraction`"):
        make_protein_localisation(dual_fraction=1.5)


def test_factory_dual_fraction_without_pairs():
    with pytest.raises(ValueError, match="`dual_fraction` must be 0"):
        make_protein_localisation(dual_pairs=[], dual_fraction=0.2)


def test_factory_set_priors_shape():
    with pytest.raises(ValueError, match="`set_priors` must have shape"):
        make_protein_localisation(set_priors=torch.ones(4) / 4)


def test_factory_set_priors_sum():
    with pytest.raises(ValueError, match="`set_priors`"):
        make_protein_localisation(set_priors=torch.ones(7) / 6)


def test_factory_signal_negative():
    with pytest.raises(ValueError, match="`signal`"):
        make_protein_localisation(signal=-1.0)


def test_factory_signal_length():
    with pytest.raises(ValueError, match="one per compartment"):
        make_protein_localisation(signal=[1.0, 2.0])


def test_factory_signal_type():
    with pytest.raises(ValueError, match="`signal` must be a number"):
        make_protein_localisation(signal="strong")


def test_factory_features_per_compartment():
    with pytest.raises(ValueError, match="`features_per_compartment`"):
        make_protein_localisation(features_per_compartment=0)


def test_factory_noise_features():
    with pytest.raises(ValueError, match="`noise_features`"):
        make_protein_localisation(noise_features=-1)


def test_factory_scale():
    with pytest.raises(ValueError, match="`scale`"):
        make_protein_localisation(scale=-2.0)


def test_factory_combine():
    with pytest.raises(ValueError, match="`combine`"):
        make_protein_localisation(combine="max")


def test_factory_dtype():
    with pytest.raises(ValueError, match="`dtype`"):
        make_protein_localisation(dtype=torch.int64)
