"""AUD: problems met while reading the repository. The audit reports them and goes on."""

from __future__ import annotations

import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.rule import Hit, Outcome, rule

_DIGITS = re.compile(r"\d+")


def _read_everything(facts: Facts) -> None:
    """Gather every area, so that every reading problem has been met."""
    for area in (
        "files",
        "python",
        "ci",
        "deps",
        "tools",
        "tests",
        "dvc",
        "deploy",
        "docs",
        "records",
    ):
        try:
            getattr(facts, area)
        except ImportError:  # an area a later version adds
            continue
    facts.python.check_syntax()


def _problems(facts: Facts, *kinds: str) -> Outcome:
    _read_everything(facts)
    # numbers are left out of the fingerprint context, so a problem that moves is the same one
    hits = [
        Hit(p.message, p.path, p.line, context=_DIGITS.sub("#", p.message))
        for p in facts.problems
        if p.kind in kinds
    ]
    return Outcome.from_hits(hits, note=f"{len(facts.files)} files indexed; none with this problem")


@rule(
    code="AUD001",
    name="unreadable-file",
    title="Every source file can be read",
    severity="low",
    practices=(),
)
def unreadable_file(facts: Facts) -> Outcome:
    """## What it finds
    Files the audit expected to read as text but could not: binary content in a source
    file, bytes that are not UTF-8, or a file too large to be hand-written.

    ## Why it matters
    What cannot be read cannot be checked; a verdict that skips a file silently would
    claim more than it saw.

    ## Example
    A `train.py` saved in Latin-1, or a 40 MB generated module.

    ## Instead
    Save source as UTF-8; keep generated or vendored code out of the repository or list it
    under `[tool.steward.audit] exclude`.
    """
    return _problems(facts, "unreadable", "too-large")


@rule(
    code="AUD002",
    name="syntax-error",
    title="Every Python file and notebook parses",
    severity="medium",
    practices=(),
)
def syntax_error(facts: Facts) -> Outcome:
    """## What it finds
    Python modules and notebooks that do not parse (a syntax error, a notebook that is not
    valid JSON). Code rules skip these files.

    ## Why it matters
    Code that does not parse cannot run; in a notebook it often means a half-saved file.

    ## Example
    `print "loss", loss` in a Python 3 project.

    ## Instead
    Fix the syntax, or exclude the file if it is deliberately broken (a test fixture).
    """
    return _problems(facts, "syntax")


@rule(
    code="AUD003",
    name="invalid-config-file",
    title="Configuration files parse",
    severity="medium",
    practices=(),
)
def invalid_config_file(facts: Facts) -> Outcome:
    """## What it finds
    TOML, YAML or JSON files the audit needed (pyproject.toml, CI workflows, dvc.yaml,
    environment.yml, ...) that do not parse.

    ## Why it matters
    A CI workflow that does not parse never runs; a broken pyproject.toml breaks every
    install.

    ## Example
    A workflow indented with a tab.

    ## Instead
    Fix the file; the finding gives the line where the parser stopped.
    """
    return _problems(facts, "config")


@rule(
    code="AUD004",
    name="link-out-of-root",
    title="Symbolic links stay inside the repository",
    severity="low",
    practices=(),
)
def link_out_of_root(facts: Facts) -> Outcome:
    """## What it finds
    Symbolic links that point outside the repository, nowhere, or in a loop. The audit never
    follows links.

    ## Why it matters
    A link out of the repository makes a checkout depend on one machine's files, and a
    tool that follows it may read what it should not.

    ## Example
    `data -> /home/alice/datasets/reviews`.

    ## Instead
    Reference shared data by a remote URI (a DVC remote, object storage) instead.
    """
    return _problems(facts, "link")
