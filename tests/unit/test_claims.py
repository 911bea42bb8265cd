"""ClaimLedger: checks, records, fails loudly and renders the chapter's claims table."""

import math

import pytest

from xenthelpers import ClaimFailed, ClaimLedger


def _check(ledger, label="claim-x-a", measured=1.0, relation=">", threshold=0.0, **kw):
    ledger.check(
        label, "a statement", measured=measured, relation=relation, threshold=threshold,
        basis="a basis", **kw,
    )


@pytest.mark.parametrize(
    ("measured", "relation", "threshold", "holds"),
    [
        (1.0, ">", 0.0, True), (0.0, ">", 0.0, False), (0.0, ">=", 0.0, True),
        (-1.0, ">=", 0.0, False), (0.5, "<", 1.0, True), (1.0, "<", 1.0, False),
        (1.0, "<=", 1.0, True), (1.5, "<=", 1.0, False),
    ],
)
def test_each_relation_decides_and_records(measured, relation, threshold, holds):
    ledger = ClaimLedger()
    if holds:
        _check(ledger, measured=measured, relation=relation, threshold=threshold)
    else:
        with pytest.raises(ClaimFailed, match="claim-x-a"):
            _check(ledger, measured=measured, relation=relation, threshold=threshold)
    (result,) = ledger.results
    assert result.holds is holds and ledger.all_hold is holds


def test_a_failed_claim_is_an_assertion_error():
    with pytest.raises(AssertionError):
        _check(ClaimLedger(), measured=-1.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"relation": "=="}, "relation"),
        ({"measured": math.nan}, "measured"),
        ({"threshold": math.nan}, "threshold"),
        ({"label": " "}, "label"),
        ({"measured": 0.5, "spec": "d"}, "spec"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        _check(ClaimLedger(), **kwargs)


def test_rows_keep_first_order_and_a_recheck_replaces_its_row():
    ledger = ClaimLedger()
    _check(ledger, "claim-x-a", measured=1.0)
    _check(ledger, "claim-x-b", measured=2.0)
    _check(ledger, "claim-x-a", measured=3.0)
    assert [r.label for r in ledger.results] == ["claim-x-a", "claim-x-b"]
    assert ledger.results[0].measured == 3.0 and len(ledger) == 2


def test_an_empty_ledger_does_not_claim_that_all_hold():
    assert not ClaimLedger().all_hold


def test_table_shows_values_threshold_basis_and_links_to_the_claim():
    ledger = ClaimLedger()
    ledger.check("claim-x-gap", "gap <positive>", measured=0.01234, relation=">=",
                 threshold=0.0, basis="99% bound", spec=".2f")
    text = str(ledger)
    assert "0.01" in text and "≥ 0.00" in text and "99% bound" in text and "yes" in text
    page = ledger._repr_html_()
    assert '<a href="#claim-x-gap">gap &lt;positive&gt;</a>' in page
    assert page.count("<tr>") == 2
    assert repr(ledger) == "ClaimLedger(checked=1, held=1)"


def test_counts_print_as_whole_numbers():
    ledger = ClaimLedger()
    _check(ledger, measured=1770, relation=">=", threshold=1769, spec="d")
    assert "1770" in str(ledger) and "≥ 1769" in str(ledger)
