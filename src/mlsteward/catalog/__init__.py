"""The practice catalogs as data: SE-ML (46), the ML Test Score (28), ML code smells (22).

The entries live in TOML files beside this module (``data/*.toml``), one table per
practice, so that a reviewer can read and correct them without reading code. Which audit
rules give evidence for a practice is declared on the rules (``Rule.practices``) and
joined here by the caller, so the two can never disagree.
"""

from __future__ import annotations

from mlsteward.catalog.model import (
    CATALOGS,
    CONDITIONS,
    MTS_SECTIONS,
    Catalog,
    Practice,
    load_catalog,
)

__all__ = ["CATALOGS", "CONDITIONS", "MTS_SECTIONS", "Catalog", "Practice", "load_catalog"]
