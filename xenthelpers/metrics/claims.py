"""A chapter's claims, each checked against its threshold and collected in one table.

A chapter states a claim, computes the number it rests on and compares that number
with a threshold whose origin it can name (a confidence bound over seeds, a rounding
error, a binomial quantile). :class:`ClaimLedger` does the comparison, fails loudly
when a claim does not hold, and keeps every result, so that the chapter can end with
a table of everything it checked, built from the values it computed.
"""

from __future__ import annotations

import html
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ClaimFailed", "ClaimLedger", "ClaimResult"]

_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
HEADERS = ("Claim", "Measured", "Threshold", "Threshold from", "Holds")


def _format(value: float, spec: str) -> str:
    """``format(value, spec)``, with integer specs (``"d"``) taking whole floats."""
    if spec.endswith("d") and float(value).is_integer():
        return format(int(value), spec)
    return format(value, spec)


class ClaimFailed(AssertionError):
    """A claim whose measured value does not satisfy its threshold.

    Examples
    --------
    >>> issubclass(ClaimFailed, AssertionError)
    True
    """


@dataclass(frozen=True)
class ClaimResult:
    """One checked claim: ``measured relation threshold`` and whether it held.

    Examples
    --------
    >>> result = ClaimResult("claim-demo", "positive", 0.25, ">=", 0.0, "by design", True)
    >>> result.row()
    ('positive', '0.25', '≥ 0', 'by design', 'yes')
    """

    label: str
    statement: str
    measured: float
    relation: str
    threshold: float
    basis: str
    holds: bool
    spec: str = ".3g"

    def row(self) -> tuple[str, str, str, str, str]:
        """The claim's row of the table, as text."""
        return (
            self.statement,
            _format(self.measured, self.spec),
            f"{_SYMBOLS[self.relation]} {_format(self.threshold, self.spec)}",
            self.basis,
            "yes" if self.holds else "no",
        )


class ClaimLedger:
    """Check a chapter's claims one by one and show them all as a table.

    :meth:`check` compares a measured value with a threshold, records the result and
    raises :class:`ClaimFailed` (an ``AssertionError``) when the claim does not hold,
    so a chapter that runs to its end has held every claim it checked. The ledger
    displays as an HTML table in a notebook and as plain text elsewhere. A claim
    checked again under the same label replaces its earlier row.

    Examples
    --------
    >>> claims = ClaimLedger()
    >>> claims.check(
    ...     "claim-demo-gap",
    ...     "the gap is positive",
    ...     measured=0.42,
    ...     relation=">",
    ...     threshold=0.0,
    ...     basis="one-sided 99% bound over 8 seeds",
    ... )
    >>> claims.results[0].holds, len(claims)
    (True, 1)
    >>> claims.check("claim-demo-small", "tiny", measured=2.0, relation="<", threshold=1.0,
    ...              basis="rounding")
    Traceback (most recent call last):
    ...
    xenthelpers.metrics.claims.ClaimFailed: claim-demo-small (tiny): measured 2 < 1 is false
    """

    def __init__(self) -> None:
        self._results: dict[str, ClaimResult] = {}

    def check(
        self,
        label: str,
        statement: str,
        *,
        measured: float,
        relation: str,
        threshold: float,
        basis: str,
        spec: str = ".3g",
    ) -> None:
        """Record ``measured relation threshold`` under ``label`` and raise if it is false.

        Returns nothing, so that a check ending a notebook cell prints nothing; the
        recorded results are in :attr:`results`.

        Parameters
        ----------
        label : str
            The claim's label in the chapter (``claim-<chapter>-<name>``); the table
            links each row to it.
        statement : str
            The claim in a few words, as the table shows it.
        measured : float
            The value the chapter computed.
        relation : {"<", "<=", ">", ">="}
            How ``measured`` must compare with ``threshold`` for the claim to hold.
        threshold : float
            The value it is compared with.
        basis : str
            Where the threshold comes from, in a few words.
        spec : str, default ".3g"
            Format specification of both numbers in the table; ``"d"`` formats
            whole numbers such as counts.

        Raises
        ------
        ValueError
            If ``relation`` is not one of the four comparisons, ``label`` or
            ``statement`` is empty, ``measured`` or ``threshold`` is NaN, or ``spec``
            cannot format them.
        ClaimFailed
            If the claim does not hold (after recording it).
        """
        if relation not in _RELATIONS:
            raise ValueError(f"`relation` must be one of {sorted(_RELATIONS)}, got {relation!r}")
        if not label.strip():
            raise ValueError("`label` must not be empty")
        if not statement.strip():
            raise ValueError("`statement` must not be empty")
        measured, threshold = float(measured), float(threshold)
        for name, value in (("measured", measured), ("threshold", threshold)):
            if math.isnan(value):
                raise ValueError(f"`{name}` is NaN for claim {label!r}")
        try:
            _format(measured, spec), _format(threshold, spec)
        except ValueError as error:
            raise ValueError(f"`spec` {spec!r} cannot format {label!r}'s values: {error}") from None
        holds = _RELATIONS[relation](measured, threshold)
        result = ClaimResult(label, statement, measured, relation, threshold, basis, holds, spec)
        self._results[label] = result
        if not holds:
            raise ClaimFailed(
                f"{label} ({statement}): measured {_format(measured, spec)} {relation} "
                f"{_format(threshold, spec)} is false"
            )

    @property
    def results(self) -> list[ClaimResult]:
        """The checked claims, in the order they were first checked."""
        return list(self._results.values())

    def __len__(self) -> int:
        return len(self._results)

    @property
    def all_hold(self) -> bool:
        """True when every recorded claim held (and at least one was recorded)."""
        return bool(self._results) and all(r.holds for r in self._results.values())

    def __str__(self) -> str:
        rows = [HEADERS, *(r.row() for r in self.results)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        return "\n".join(line.rstrip() for line in lines)

    def __repr__(self) -> str:
        held = sum(r.holds for r in self._results.values())
        return f"ClaimLedger(checked={len(self)}, held={held})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in HEADERS)
        body = []
        for result in self.results:
            statement, *cells = (html.escape(cell) for cell in result.row())
            link = f'<a href="#{html.escape(result.label)}">{statement}</a>'
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in (link, *cells)) + "</tr>")
        return (
            '<table class="claims-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
