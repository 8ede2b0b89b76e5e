"""The bundled catalog files: counts, ids, vocabularies and the Catalog API."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from mlsteward.catalog import CATALOGS, CONDITIONS, MTS_SECTIONS, Catalog, load_catalog
from mlsteward.errors import UnknownIdError

SEML_CATEGORIES = {
    "data": 8,
    "training": 16,
    "coding": 4,
    "deployment": 7,
    "team": 4,
    "governance": 7,
}
SMELL_CATEGORIES = {
    "data-cleaning",
    "feature-engineering",
    "training",
    "evaluation",
    "training-evaluation",
}
ID_PATTERNS = {
    "se-ml": re.compile(r"seml-([1-9]|[1-3][0-9]|4[0-6])"),
    "ml-test-score": re.compile(r"mts-(data|model|infra|monitor)-[1-7]"),
    "ml-smells": re.compile(r"smell-([1-9]|1[0-9]|2[0-2])"),
}
MTS_ID_SECTION = {
    "data": "data",
    "model": "model",
    "infra": "infrastructure",
    "monitor": "monitoring",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_total_count(catalog: Catalog) -> None:
    assert len(catalog) == 96


def test_counts_per_catalog(catalog: Catalog) -> None:
    counts = Counter(p.catalog for p in catalog)
    assert counts == {"se-ml": 46, "ml-test-score": 28, "ml-smells": 22}
    assert set(counts) == set(CATALOGS)


def test_seml_category_counts(catalog: Catalog) -> None:
    counts = Counter(p.category for p in catalog.select(catalog="se-ml"))
    assert counts == SEML_CATEGORIES


def test_mts_seven_per_section(catalog: Catalog) -> None:
    counts = Counter(p.category for p in catalog.select(catalog="ml-test-score"))
    assert counts == dict.fromkeys(MTS_SECTIONS, 7)


def test_ids_unique(catalog: Catalog) -> None:
    ids = [p.id for p in catalog]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates
    assert catalog.ids() == frozenset(ids)


@pytest.mark.parametrize("name", sorted(ID_PATTERNS))
def test_ids_match_catalog_pattern(catalog: Catalog, name: str) -> None:
    pattern = ID_PATTERNS[name]
    bad = [p.id for p in catalog.select(catalog=name) if not pattern.fullmatch(p.id)]
    assert not bad


def test_seml_ids_cover_1_to_46(catalog: Catalog) -> None:
    ids = {p.id for p in catalog.select(catalog="se-ml")}
    assert ids == {f"seml-{n}" for n in range(1, 47)}


def test_seml_numbers_follow_published_index(catalog: Catalog) -> None:
    for p in catalog.select(catalog="se-ml"):
        if p.id == "seml-46":
            assert p.number == 24
            assert p.difficulty == "na"
        else:
            assert p.id == f"seml-{p.number}"
    assert catalog.get("seml-24").title == "Run Automated Regression Tests"
    assert catalog.get("seml-46").title == "Use The Most Efficient Models"


def test_mts_ids_agree_with_section_and_number(catalog: Catalog) -> None:
    for p in catalog.select(catalog="ml-test-score"):
        _, section, number = p.id.split("-")
        assert MTS_ID_SECTION[section] == p.category
        assert int(number) == p.number


def test_smell_numbers_match_ids(catalog: Catalog) -> None:
    smells = catalog.select(catalog="ml-smells")
    assert [p.id for p in smells] == [f"smell-{n}" for n in range(1, 23)]
    assert all(p.id == f"smell-{p.number}" for p in smells)
    assert {p.category for p in smells} <= SMELL_CATEGORIES


def test_smell_labels_start_with_type(catalog: Catalog) -> None:
    for p in catalog.select(catalog="ml-smells"):
        assert p.labels[0] in {"generic", "api-specific"}, p.id
        assert len(p.labels) >= 2, p.id


def test_applies_when_uses_known_conditions(catalog: Catalog) -> None:
    bad = {p.id: c for p in catalog for c in p.applies_when if c not in CONDITIONS}
    assert not bad


def test_mts_categories_are_sections(catalog: Catalog) -> None:
    assert all(p.category in MTS_SECTIONS for p in catalog.select(catalog="ml-test-score"))


def test_seml_difficulty_vocabulary(catalog: Catalog) -> None:
    allowed = {"basic", "medium", "advanced", "na"}
    assert all(p.difficulty in allowed for p in catalog.select(catalog="se-ml"))


def test_only_seml_has_difficulty_and_question(catalog: Catalog) -> None:
    for p in catalog:
        if p.catalog != "se-ml":
            assert p.difficulty is None, p.id
            assert p.question is None, p.id


def test_every_entry_has_text(catalog: Catalog) -> None:
    for p in catalog:
        assert p.title.strip(), p.id
        assert p.summary.strip(), p.id
        assert p.evidence.strip(), p.id


def test_get_returns_entry(catalog: Catalog) -> None:
    practice = catalog.get("seml-1")
    assert practice.title == "Use Sanity Checks for All External Data Sources"
    assert practice.catalog == "se-ml"
    assert practice.category == "data"
    assert practice.question == "Q32"
    assert catalog.get("mts-infra-1").title == "Training is reproducible"
    assert catalog.get("smell-20").title == "Gradients Not Cleared before Backward"


def test_get_unknown_id_raises(catalog: Catalog) -> None:
    with pytest.raises(UnknownIdError):
        catalog.get("seml-99")


def test_select_mts_model(catalog: Catalog) -> None:
    selected = catalog.select(catalog="ml-test-score", category="model")
    assert len(selected) == 7
    assert all(p.catalog == "ml-test-score" and p.category == "model" for p in selected)
