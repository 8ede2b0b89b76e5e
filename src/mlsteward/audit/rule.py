"""What a rule is, what it returns, and how it is declared.

A rule is a plain function over the repository's `Facts`, declared with `@rule(...)`.
Its metadata (code, name, severity, the catalog practices it evidences) is data on the
decorator; its documentation is its docstring, in four Markdown sections that
``steward audit explain`` and ``docs/rules.md`` render::

    @rule(code="SML014", name="randomness-uncontrolled", severity="medium",
          practices=("smell-14", "mts-infra-1"), title="Random seeds are set")
    def randomness_uncontrolled(facts: Facts) -> Outcome:
        \"\"\"## What it finds
        ...
        ## Why it matters
        ...
        ## Example
        ...
        ## Instead
        ...
        \"\"\"

A rule returns an `Outcome`: passed, failed (with findings), not applicable, or unknown
(the repository gives no way to tell), plus the evidence it saw and how strong it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = [
    "DOC_SECTIONS",
    "SEVERITY_ORDER",
    "Evidence",
    "Hit",
    "Outcome",
    "Rule",
    "Status",
    "Strength",
    "rule",
]

SEVERITY_ORDER = {"low": 1, "medium": 2, "high": 3}

#: Markdown headings every rule docstring has, in this order
DOC_SECTIONS = ("What it finds", "Why it matters", "Example", "Instead")

_CODE = re.compile(r"^[A-Z]{2,4}[0-9]{3}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Strength(IntEnum):
    """How strong a piece of evidence is; the ladder of CATALOG.md section 0."""

    DECLARED = 1  # the team says so, or a document exists that says so
    PRESENT = 2  # the artefact is in the repository
    AUTOMATED = 3  # CI or a scheduler runs it
    ENFORCED = 4  # it gates a merge or a release
    VERIFIED = 5  # mlsteward's own records prove it

    @property
    def label(self) -> str:
        return self.name.lower()


class Status(StrEnum):
    """A rule's verdict on one repository."""

    PASSED = "passed"
    FAILED = "failed"
    PARTIAL = "partial"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Evidence:
    """Something the audit saw: a file and line, a CI job, a record."""

    text: str
    strength: Strength = Strength.PRESENT
    path: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "strength": self.strength.label,
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class Hit:
    """One place a rule fails: becomes a finding once the engine adds code and severity."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    #: text used for the baseline fingerprint instead of the line number (e.g. the source line)
    context: str = ""


@dataclass(frozen=True)
class Outcome:
    """What a rule concluded.

    ``score`` is the share of the rule that holds, 0 to 1 (a partial outcome is, say,
    2 of 3 CI jobs running tests). Findings (``hits``) are only meaningful on failed or
    partial outcomes.
    """

    status: Status
    score: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    hits: tuple[Hit, ...] = ()
    note: str = ""

    @classmethod
    def passed(cls, *evidence: Evidence, note: str = "") -> Outcome:
        return cls(Status.PASSED, 1.0, tuple(evidence), note=note)

    @classmethod
    def failed(cls, *hits: Hit, evidence: Sequence[Evidence] = (), note: str = "") -> Outcome:
        return cls(Status.FAILED, 0.0, tuple(evidence), tuple(hits), note=note)

    @classmethod
    def partial(
        cls, score: float, *hits: Hit, evidence: Sequence[Evidence] = (), note: str = ""
    ) -> Outcome:
        score = min(max(score, 0.0), 1.0)
        if score >= 1.0:
            return cls(Status.PASSED, 1.0, tuple(evidence), note=note)
        if score <= 0.0:
            return cls(Status.FAILED, 0.0, tuple(evidence), tuple(hits), note=note)
        return cls(Status.PARTIAL, score, tuple(evidence), tuple(hits), note=note)

    @classmethod
    def not_applicable(cls, note: str) -> Outcome:
        return cls(Status.NOT_APPLICABLE, note=note)

    @classmethod
    def unknown(cls, note: str) -> Outcome:
        return cls(Status.UNKNOWN, note=note)

    @classmethod
    def from_hits(
        cls, hits: Sequence[Hit], *, evidence: Sequence[Evidence] = (), note: str = ""
    ) -> Outcome:
        """Passed when there are no hits; failed otherwise (code smells work this way)."""
        if hits:
            return cls.failed(*hits, evidence=evidence, note=note)
        return cls.passed(*evidence, note=note)

    @property
    def strength(self) -> Strength | None:
        """The strongest evidence behind a passing (or partly passing) outcome."""
        if self.status not in (Status.PASSED, Status.PARTIAL) or not self.evidence:
            return None
        return max(e.strength for e in self.evidence)


Check = Callable[["Facts"], Outcome]


@dataclass(frozen=True)
class Rule:
    """A registered rule: metadata as data plus the check function."""

    code: str
    name: str
    title: str
    family: str
    severity: str
    practices: tuple[str, ...]
    check: Check = field(repr=False, compare=False)
    doc: dict[str, str] = field(repr=False, compare=False, default_factory=dict)
    scope: str = "repo"
    applies_when: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ("poc", "production")

    @property
    def summary(self) -> str:
        """The first paragraph of "What it finds"."""
        return self.doc.get("What it finds", "").split("\n\n")[0].replace("\n", " ").strip()

    def markdown(self) -> str:
        """The rule's documentation page as Markdown."""
        lines = [f"## {self.code} `{self.name}`", "", f"**{self.title}**", ""]
        lines.append(
            f"Severity: {self.severity} · scope: {self.scope} · practices: "
            + ", ".join(f"`{p}`" for p in self.practices)
        )
        if self.applies_when:
            lines.append("Applies when: " + ", ".join(self.applies_when))
        for section in DOC_SECTIONS:
            lines += ["", f"### {section}", "", self.doc.get(section, "")]
        return "\n".join(lines).rstrip() + "\n"


def parse_doc(text: str | None) -> dict[str, str]:
    """Split a rule docstring into its ``## Section`` parts."""
    import inspect

    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    for line in inspect.cleandoc(text or "").splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(buf).strip()
            current, buf = line[3:].strip(), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip()
    return sections


#: rules declared so far, in declaration order; the registry reads this
DECLARED: list[Rule] = []


def rule(
    *,
    code: str,
    name: str,
    title: str,
    severity: str,
    practices: Sequence[str],
    scope: str = "repo",
    applies_when: Sequence[str] = (),
    profiles: Sequence[str] = ("poc", "production"),
) -> Callable[[Check], Check]:
    """Declare a rule. The family is the code's letter prefix (``SML014`` -> ``SML``).

    Declaration errors are programming errors in a rule pack, so they raise ValueError
    at import time rather than a user-facing error.
    """
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must be 2-4 capitals and 3 digits, e.g. SML014")
    if not _NAME.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case")
    if severity not in SEVERITY_ORDER:
        raise ValueError(f"rule {code}: severity {severity!r} not in {list(SEVERITY_ORDER)}")
    if scope not in ("repo", "code"):
        raise ValueError(f"rule {code}: scope must be 'repo' or 'code'")

    def decorate(check: Check) -> Check:
        DECLARED.append(
            Rule(
                code=code,
                name=name,
                title=title,
                family=code.rstrip("0123456789"),
                severity=severity,
                practices=tuple(practices),
                check=check,
                doc=parse_doc(check.__doc__),
                scope=scope,
                applies_when=tuple(applies_when),
                profiles=tuple(profiles),
            )
        )
        return check

    return decorate
