"""The scoring formulas of docs/scoring.md, on hand-made rule results."""

from __future__ import annotations

import pytest

from mlsteward.audit.report import RuleResult
from mlsteward.audit.rule import Evidence, Status, Strength
from mlsteward.audit.scoring import (
    adoption_level,
    band,
    categories,
    ml_test_score,
    overall,
    practices,
)
from mlsteward.catalog import load_catalog
from mlsteward.config import Declaration

CTX = {"deployed": True, "personal_data": True, "labels": True, "features": True, "users": True}


def _result(
    code: str,
    status: Status,
    score: float,
    practice_ids: tuple[str, ...],
    strength: Strength = Strength.PRESENT,
) -> RuleResult:
    evidence = (Evidence("seen", strength, "x.py", 1),) if status is not Status.FAILED else ()
    return RuleResult(code, code.lower(), code, "medium", status, score, practice_ids, evidence)


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.0, "not_adopted"),
        (0.2, "partially"),
        (0.5, "mostly"),
        (0.99, "mostly"),
        (1.0, "completely"),
    ],
)
def test_adoption_levels(score: float, level: str) -> None:
    assert adoption_level(score) == level


@pytest.mark.parametrize(
    ("final", "start"),
    [
        (0, "more a research"),
        (0.5, "not totally"),
        (1.5, "a first pass"),
        (3, "reasonably"),
        (4, "strong"),
        (5.5, "exceptional"),
    ],
)
def test_bands_follow_the_2017_paper(final: float, start: str) -> None:
    assert band(final).startswith(start)


def test_practice_score_is_the_mean_of_its_rules() -> None:
    results = [
        _result("AA001", Status.PASSED, 1.0, ("seml-22",)),
        _result("AA002", Status.FAILED, 0.0, ("seml-22",)),
        _result("AA003", Status.NOT_APPLICABLE, 0.0, ("seml-22",)),
    ]
    p = next(x for x in practices(load_catalog(), results, CTX) if x.id == "seml-22")
    assert (p.adoption, p.score, p.strength) == ("mostly", 0.5, Strength.PRESENT)
    assert "AA002" in p.note


def test_unknown_and_not_applicable_never_count_as_failing() -> None:
    ctx = dict(CTX, deployed=False)
    out = practices(load_catalog(), [], ctx)
    canary = next(x for x in out if x.id == "mts-infra-6")
    assert canary.adoption == "not_applicable"
    assert next(x for x in out if x.id == "seml-22").adoption == "unknown"
    assert overall(out) is None
    assert all(c.adoption is None for c in categories(load_catalog(), out))


def test_ml_test_score_uses_half_points_for_manual_and_the_minimum_of_sections() -> None:
    results = []
    for i in range(1, 8):
        results.append(
            _result(f"DD{i:03d}", Status.PASSED, 1.0, (f"mts-data-{i}",), Strength.AUTOMATED)
        )
        results.append(
            _result(f"MM{i:03d}", Status.PASSED, 1.0, (f"mts-model-{i}",), Strength.PRESENT)
        )
        results.append(
            _result(f"II{i:03d}", Status.PASSED, 1.0, (f"mts-infra-{i}",), Strength.ENFORCED)
        )
    mts = ml_test_score(practices(load_catalog(), results, CTX))
    assert (mts.data, mts.model, mts.infrastructure) == (7.0, 3.5, 7.0)
    assert mts.monitoring == 0.0
    assert mts.final == 0.0, "the weakest section limits the score"

    # a model that is not deployed: monitoring does not apply and leaves the minimum
    mts = ml_test_score(practices(load_catalog(), results, dict(CTX, deployed=False)))
    assert mts.applicable == {"data": 7, "model": 6, "infrastructure": 5, "monitoring": 0}
    assert (mts.model, mts.infrastructure) == (3.0, 5.0), "model-2, infra-6/7 need a deployment"
    assert mts.final == 3.0


def test_partial_adoption_with_automation_earns_half_a_point() -> None:
    results = [_result("DD001", Status.PARTIAL, 0.3, ("mts-data-1",), Strength.AUTOMATED)]
    out = practices(load_catalog(), results, CTX)
    ml_test_score(out)
    assert next(x for x in out if x.id == "mts-data-1").points == 0.5


def test_declarations_lift_unknown_practices_and_say_how_strong() -> None:
    decl = [Declaration("seml-45", "docs/audit.pdf"), Declaration("seml-39", "nowhere.md")]
    out = practices(load_catalog(), [], CTX, decl, frozenset({"docs/audit.pdf"}))
    audited = next(x for x in out if x.id == "seml-45")
    values = next(x for x in out if x.id == "seml-39")
    assert (audited.adoption, audited.strength) == ("partially", Strength.PRESENT)
    assert (values.adoption, values.strength) == ("partially", Strength.DECLARED)
    assert "no document" in values.note


def test_ignored_rules_do_not_count() -> None:
    r = _result("AA001", Status.FAILED, 0.0, ("seml-22",))
    r.ignored = "not for us"
    p = next(x for x in practices(load_catalog(), [r], CTX) if x.id == "seml-22")
    assert p.adoption == "unknown"
