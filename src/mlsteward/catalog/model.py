"""Practice records and the loader for the bundled catalog files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from mlsteward.errors import UnknownIdError

__all__ = ["CATALOGS", "CONDITIONS", "MTS_SECTIONS", "Catalog", "Practice", "load_catalog"]

#: catalog id -> (file in data/, title, source)
CATALOGS: dict[str, tuple[str, str, str]] = {
    "se-ml": (
        "se_ml.toml",
        "SE-ML catalog of engineering best practices for ML",
        "Serban et al., ESEM 2020 and WAIN 2021; se-ml.github.io",
    ),
    "ml-test-score": (
        "ml_test_score.toml",
        "The ML Test Score",
        "Breck et al., IEEE BigData 2017",
    ),
    "ml-smells": (
        "ml_smells.toml",
        "Code smells for machine learning applications",
        "Zhang, Cruz and van Deursen, CAIN 2022",
    ),
}

#: the ML Test Score's four sections, in the paper's order
MTS_SECTIONS = ("data", "model", "infrastructure", "monitoring")

#: applicability conditions a practice may require (keys of [tool.steward.context])
CONDITIONS = ("deployed", "personal_data", "labels", "features", "users")


@dataclass(frozen=True)
class Practice:
    """One practice, test or smell of a catalog.

    Attributes:
        id: stable identifier (``seml-22``, ``mts-infra-1``, ``smell-14``); never reused.
        title: the title as published.
        catalog: ``se-ml``, ``ml-test-score`` or ``ml-smells``.
        category: SE-ML category, ML Test Score section, or the smell's pipeline stage.
        number: position in the published catalog (SE-ML index, test number, smell number).
        difficulty: SE-ML difficulty from survey adoption (basic, medium, advanced, na).
        labels: SE-ML effect or EU trustworthy-AI labels.
        question: the SE-ML survey item.
        summary: what the practice asks, in our own words.
        applies_when: context conditions that must hold for the practice to apply.
        evidence: how a tool can see it followed (static, records, declared).
    """

    id: str
    title: str
    catalog: str
    category: str
    number: int
    summary: str
    difficulty: str | None = None
    labels: tuple[str, ...] = ()
    question: str | None = None
    applies_when: tuple[str, ...] = ()
    evidence: str = ""

    def __repr__(self) -> str:
        return f"Practice({self.id!r}, {self.title!r})"


@dataclass(frozen=True)
class Catalog:
    """All practices of all bundled catalogs, in published order."""

    practices: tuple[Practice, ...]

    def __iter__(self) -> Iterator[Practice]:
        return iter(self.practices)

    def __len__(self) -> int:
        return len(self.practices)

    def get(self, practice_id: str) -> Practice:
        """Return the practice with this id.

        Raises:
            UnknownIdError: no practice has that id.
        """
        for practice in self.practices:
            if practice.id == practice_id:
                return practice
        raise UnknownIdError(
            f"no practice {practice_id!r} in the catalogs",
            code="unknown-practice",
            hint="`steward catalog` lists every id (seml-1..46, mts-data-1.., smell-1..22)",
        )

    def ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.practices)

    def select(self, catalog: str | None = None, category: str | None = None) -> list[Practice]:
        """Practices filtered by catalog and category (case-insensitive)."""
        out = list(self.practices)
        if catalog:
            if catalog not in CATALOGS:
                raise UnknownIdError(
                    f"no catalog {catalog!r}; known: {', '.join(CATALOGS)}",
                    code="unknown-catalog",
                    hint="use one of the catalog ids shown",
                )
            out = [p for p in out if p.catalog == catalog]
        if category:
            out = [p for p in out if p.category.lower() == category.lower()]
        return out


def _practice(catalog: str, row: dict[str, object]) -> Practice:
    labels = row.get("labels", [])
    applies = row.get("applies_when", [])
    difficulty = row.get("difficulty")
    question = row.get("question")
    return Practice(
        id=str(row["id"]),
        title=str(row["title"]),
        catalog=catalog,
        category=str(row["category"]),
        number=int(row["number"]),  # type: ignore[call-overload]
        summary=str(row["summary"]).strip(),
        difficulty=None if difficulty is None else str(difficulty),
        labels=tuple(str(x) for x in labels),  # type: ignore[attr-defined]
        question=None if question is None else str(question),
        applies_when=tuple(str(x) for x in applies),  # type: ignore[attr-defined]
        evidence=str(row.get("evidence", "")).strip(),
    )


@cache
def load_catalog() -> Catalog:
    """Load the bundled catalogs (cached; the files ship inside the package)."""
    practices: list[Practice] = []
    data = resources.files("mlsteward.catalog") / "data"
    for catalog, (filename, _title, _source) in CATALOGS.items():
        table = tomllib.loads((data / filename).read_text(encoding="utf-8"))
        practices.extend(_practice(catalog, row) for row in table["practice"])
    return Catalog(tuple(practices))
