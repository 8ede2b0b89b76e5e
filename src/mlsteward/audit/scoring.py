"""From rule outcomes to adoption levels, category scores and the ML Test Score.

Every formula is here and in docs/scoring.md:

- A practice's *score* is the mean score (0..1) of the applicable rules that evidence it
  and reached a verdict. Its adoption level on the SE-ML survey scale: 0 not adopted,
  below 0.5 partially, below 1 mostly, 1 completely. A practice no applicable rule can
  judge is *unknown*; one whose conditions do not hold (``[tool.steward.context]``) is
  *not applicable*. Neither is ever counted as failing.
- A declaration (``[tool.steward.declare]``) lifts an otherwise unknown or unadopted
  practice to *partially*, with *declared* strength; a declaration that names a file in
  the repository counts as *present*.
- ML Test Score, 2017 rule: per test 1 point when adopted at least "mostly" and run
  automatically (CI, a scheduler, or mlsteward records), 0.5 when adopted and present
  but run by hand, else 0. Section sums; the final score is the minimum over the
  sections that have an applicable test.
- Category adoption is the mean adoption value (completely 1, mostly 2/3, partially 1/3,
  not adopted 0) over the practices whose adoption is known; the overall score is the
  same over every known SE-ML practice, times 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlsteward.audit.report import (
    ADOPTION_VALUE,
    CategoryScore,
    MLTestScore,
    PracticeResult,
    RuleResult,
)
from mlsteward.audit.rule import Evidence, Status, Strength
from mlsteward.catalog import MTS_SECTIONS, Catalog, Practice
from mlsteward.config import Declaration

__all__ = ["BANDS", "adoption_level", "band", "categories", "ml_test_score", "overall", "practices"]

#: ML Test Score 2017 interpretation bands (upper bound inclusive, meaning)
BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "more a research project than a productionized system"),
    (1.0, "not totally untested, but serious holes in reliability are likely"),
    (2.0, "a first pass at basic productionization; more investment is needed"),
    (3.0, "reasonably tested; more tests and procedures could be automated"),
    (5.0, "strong automated testing and monitoring, fit for mission-critical systems"),
    (float("inf"), "exceptional levels of automated testing and monitoring"),
)


def band(final: float) -> str:
    """The 2017 paper's meaning of a final ML Test Score."""
    for upper, meaning in BANDS:
        if final <= upper:
            return meaning
    return BANDS[-1][1]


def adoption_level(score: float) -> str:
    if score <= 0.0:
        return "not_adopted"
    if score < 0.5:
        return "partially"
    if score < 1.0:
        return "mostly"
    return "completely"


def _applies(practice: Practice, context: Mapping[str, bool]) -> bool:
    return all(context.get(cond, True) for cond in practice.applies_when)


def practices(
    catalog: Catalog,
    results: Iterable[RuleResult],
    context: Mapping[str, bool],
    declarations: Iterable[Declaration] = (),
    present_files: frozenset[str] = frozenset(),
) -> list[PracticeResult]:
    """One result per catalog practice, from the results of the rules that evidence it."""
    by_practice: dict[str, list[RuleResult]] = {}
    for r in results:
        if r.ignored is not None:
            continue
        for pid in r.practices:
            by_practice.setdefault(pid, []).append(r)
    declared = {d.practice: d for d in declarations}
    out: list[PracticeResult] = []
    for p in catalog:
        rules = by_practice.get(p.id, [])
        codes = tuple(r.code for r in rules)
        if not _applies(p, context):
            needs = ", ".join(c for c in p.applies_when if not context.get(c, True))
            out.append(
                PracticeResult(
                    p.id,
                    p.title,
                    p.catalog,
                    p.category,
                    "not_applicable",
                    None,
                    None,
                    codes,
                    note=f"does not apply: context {needs} is false",
                )
            )
            continue
        judged = [r for r in rules if r.status in (Status.PASSED, Status.FAILED, Status.PARTIAL)]
        evidence: list[Evidence] = []
        for r in judged:
            evidence.extend(r.evidence)
        if judged:
            score = sum(r.score for r in judged) / len(judged)
            level = adoption_level(score)
            strengths = [r.strength for r in judged if r.strength is not None]
            strength = max(strengths) if strengths else None
            failing = [r.code for r in judged if r.status is not Status.PASSED]
            note = f"not yet: {', '.join(failing)}" if failing else ""
        else:
            score, level, strength = None, "unknown", None
            note = (
                "no rule could judge this from the repository"
                if not rules
                else "; ".join(sorted({r.note for r in rules if r.note}))
                or "not applicable to this repository"
            )
            if rules and all(r.status is Status.NOT_APPLICABLE for r in rules):
                level = "not_applicable"
        decl = declared.get(p.id)
        if decl is not None and level in ("unknown", "not_adopted"):
            backed = decl.evidence in present_files
            strength_d = Strength.PRESENT if backed else Strength.DECLARED
            evidence.append(
                Evidence(
                    f"declared by the team: {decl.note or decl.evidence}",
                    strength_d,
                    decl.evidence if backed else None,
                    1 if backed else None,
                )
            )
            level, score, strength = "partially", max(score or 0.0, 1 / 3), strength_d
            note = "declared" + (
                " (document present)" if backed else " only; no document in the repository"
            )
        out.append(
            PracticeResult(
                p.id,
                p.title,
                p.catalog,
                p.category,
                level,
                score,
                strength,
                codes,
                tuple(evidence),
                note,
            )
        )
    return out


def _points(p: PracticeResult) -> float:
    if (
        p.adoption in ("mostly", "completely")
        and p.strength is not None
        and p.strength >= Strength.AUTOMATED
    ):
        return 1.0
    if (
        p.adoption in ("partially", "mostly", "completely")
        and p.strength is not None
        and p.strength >= Strength.PRESENT
    ):
        return 0.5
    return 0.0


def ml_test_score(results: list[PracticeResult]) -> MLTestScore:
    """Section sums and the final minimum, by the 2017 rule; sets each test's points."""
    sums = dict.fromkeys(MTS_SECTIONS, 0.0)
    applicable = dict.fromkeys(MTS_SECTIONS, 0)
    for p in results:
        if p.catalog != "ml-test-score":
            continue
        if p.adoption == "not_applicable":
            continue
        p.points = _points(p)
        sums[p.category] += p.points
        applicable[p.category] += 1
    counted = [sums[s] for s in MTS_SECTIONS if applicable[s]]
    final = min(counted) if counted else 0.0
    return MLTestScore(
        data=sums["data"],
        model=sums["model"],
        infrastructure=sums["infrastructure"],
        monitoring=sums["monitoring"],
        final=final,
        band=band(final),
        applicable=applicable,
    )


def categories(catalog: Catalog, results: list[PracticeResult]) -> list[CategoryScore]:
    order: list[tuple[str, str]] = []
    for p in catalog:
        if (p.catalog, p.category) not in order:
            order.append((p.catalog, p.category))
    out = []
    for cat, category in order:
        group = [r for r in results if r.catalog == cat and r.category == category]
        applicable = [r for r in group if r.adoption != "not_applicable"]
        known = [r for r in applicable if r.adoption in ADOPTION_VALUE]
        value = sum(ADOPTION_VALUE[r.adoption] for r in known) / len(known) if known else None
        out.append(CategoryScore(cat, category, value, len(known), len(applicable), len(group)))
    return out


def overall(results: list[PracticeResult]) -> float | None:
    """The readiness score, 0-100: mean adoption value over known SE-ML practices."""
    known = [r for r in results if r.catalog == "se-ml" and r.adoption in ADOPTION_VALUE]
    if not known:
        return None
    return 100.0 * sum(ADOPTION_VALUE[r.adoption] for r in known) / len(known)
