"""Documentation facts: README, model and data cards, team and governance documents.

A document is found by where it lives and what it is called (``MODEL_CARD.md``,
``.github/CODEOWNERS``, ``docs/adr/0001-*.md``, ``SECURITY.md``, ...) and, for cards,
by Hugging Face front matter (``model-index``, ``pipeline_tag`` for a model card;
``task_categories``, ``annotations_creators`` for a dataset card). Text documents are
read once: their headings (Markdown, setext, reStructuredText, bold pseudo-headings),
their YAML front matter and the dates written in them; binary ones (PDF, Word) only
count as present.

A document's existence is all the audit can check: what it says is the team's claim.
"""

from __future__ import annotations

import ast
import configparser
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.yamlfile import load_toml, load_yaml

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["DOC_KINDS", "DocsFacts", "Document", "Heading", "OwnerRule", "gather", "parse_headings"]

#: every kind of document this module recognises
DOC_KINDS = (
    "readme",
    "model-card",
    "datasheet",
    "data-readme",
    "codeowners",
    "pr-template",
    "issue-template",
    "security",
    "contributing",
    "code-of-conduct",
    "license",
    "changelog",
    "release-config",
    "adr",
    "design",
    "rai-policy",
    "risk-assessment",
    "dpia",
    "audit-report",
)

_DOC_SUFFIXES = (
    ".md",
    ".markdown",
    ".rst",
    ".txt",
    ".adoc",
    ".org",
    ".html",
    ".htm",
    ".pdf",
    ".docx",
    ".odt",
)
_BINARY_SUFFIXES = (".pdf", ".docx", ".odt")
_TOP_DIRS = ("", ".github/", "docs/", "doc/", ".gitlab/")

#: (kind, pattern over the lower-cased basename without suffix, where it may live)
#: where: "top" = root, .github/, docs/; "any" = anywhere
_NAME_RULES: tuple[tuple[str, str, str], ...] = (
    ("model-card", r"model[-_ ]?cards?([-_.].*)?", "any"),
    ("datasheet", r"(datasheet|data[-_ ]?card|dataset[-_ ]?card)s?([-_.].*)?", "any"),
    ("security", r"security", "top"),
    ("contributing", r"contributing|contribute|contribution[-_]guide", "top"),
    ("code-of-conduct", r"code[-_]of[-_]conduct|conduct", "top"),
    ("license", r"licen[cs]e([-_.].*)?|copying", "top"),
    ("changelog", r"change[-_]?log|changes|history|news|release[-_]?notes|releases", "top"),
    (
        "rai-policy",
        r".*(responsible[-_ ]?ai|ai[-_ ]?(principles|policy|ethics|values)|ethic(s|al)[-_ ]?"
        r"(guidelines|policy|statement|principles|considerations)?|rai[-_]policy).*",
        "any",
    ),
    (
        "risk-assessment",
        r".*(risk[-_ ]?(assessment|analysis|register|management)|risks|impact[-_ ]?"
        r"assessment|threat[-_ ]?model|fria|hazard[-_ ]?analysis).*",
        "any",
    ),
    ("dpia", r".*(dpia|data[-_ ]?protection[-_ ]?impact|privacy[-_ ]?impact).*", "any"),
    (
        "audit-report",
        r".*(audit[-_ ]?report|audit[-_ ]?results|third[-_ ]?party[-_ ]?audit|external[-_ ]?audit"
        r"|algorithmic[-_ ]?audit).*",
        "any",
    ),
    ("design", r"design([-_ ]?doc(s|ument)?)?|architecture", "top"),
)
_COMPILED_NAMES = tuple((k, re.compile(rx + r"\Z"), where) for k, rx, where in _NAME_RULES)

_DATA_DIR = re.compile(r"(^|/)(data|datasets?|raw|processed)$")
_ADR_DIRS = re.compile(
    r"(^|/)(adrs?|decisions|decision[-_]records|architecture[-_]decisions|rfcs?)/"
)
_HF_MODEL_KEYS = frozenset(
    {"model-index", "pipeline_tag", "base_model", "library_name", "model_name", "model_type"}
)
_HF_DATA_KEYS = frozenset(
    {
        "task_categories",
        "size_categories",
        "annotations_creators",
        "language_creators",
        "source_datasets",
        "dataset_info",
        "configs",
        "pretty_name",
        "multilinguality",
    }
)

# fmt: off
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
# fmt: on
_DATE_ISO = re.compile(r"\b((?:19|20)\d\d)[-/.](0[1-9]|1[0-2])[-/.](0[1-9]|[12]\d|3[01])\b")
_DATE_WORDS = re.compile(
    r"\b(?:(\d{1,2})\s+)?("
    + "|".join(m[:3] + r"[a-z]*" for m in _MONTHS)
    + r")\.?\s+(?:(\d{1,2}),?\s+)?((?:19|20)\d\d)\b",
    re.I,
)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass(frozen=True)
class OwnerRule:
    """One CODEOWNERS line: a path pattern and its owners (none = explicitly unowned)."""

    pattern: str
    owners: tuple[str, ...]
    line: int


@dataclass(eq=False)
class Document:
    """One documentation file and what was read from it."""

    path: str
    kinds: frozenset[str]
    text: str | None = field(default=None, repr=False)
    headings: tuple[Heading, ...] = ()
    front_matter: dict[str, Any] | None = None

    def section(self, pattern: str) -> Heading | None:
        """The first heading matching ``pattern`` (a regex, case-insensitive)."""
        rx = re.compile(pattern, re.I)
        return next((h for h in self.headings if rx.search(h.text)), None)

    def mentions(self, pattern: str) -> int | None:
        """The first line whose text matches ``pattern`` (case-insensitive), if any."""
        if not self.text:
            return None
        rx = re.compile(pattern, re.I)
        for n, line in enumerate(self.text.splitlines(), 1):
            if rx.search(line):
                return n
        return None

    @cached_property
    def dates(self) -> tuple[date, ...]:
        """Dates written in the document (ISO or "March 2024" style), oldest first."""
        return _dates(self.text or "")

    @property
    def latest_date(self) -> date | None:
        return self.dates[-1] if self.dates else None

    @property
    def binary(self) -> bool:
        return self.path.lower().endswith(_BINARY_SUFFIXES)


@dataclass
class DocsFacts:
    """The repository's documentation, by kind."""

    documents: list[Document] = field(default_factory=list)
    codeowners_path: str | None = None
    codeowners: list[OwnerRule] = field(default_factory=list)
    #: label -> URL from pyproject.toml, setup.cfg or setup.py project URLs
    project_urls: dict[str, str] = field(default_factory=dict)
    #: changelog tooling: towncrier, release-drafter, a changes directory, ...
    release_tooling: list[str] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Document]:
        return [d for d in self.documents if d.kinds & set(kinds)]

    def first(self, kind: str) -> Document | None:
        docs = self.of(kind)
        return min(docs, key=lambda d: (d.path.count("/"), d.path)) if docs else None

    @property
    def readme(self) -> Document | None:
        return next((d for d in self.documents if "readme" in d.kinds and "/" not in d.path), None)

    @cached_property
    def _owner_patterns(self) -> list[tuple[OwnerRule, re.Pattern[str]]]:
        """Each rule's gitignore-style pattern as one compiled regex, last rule first."""
        from pathspec import GitIgnoreSpec

        out = []
        for rule in reversed(self.codeowners):
            try:
                patterns = GitIgnoreSpec.from_lines([rule.pattern]).patterns
            except (ValueError, re.error):  # GitHub skips a line it cannot read; so do we
                continue
            regex = getattr(patterns[0], "regex", None) if patterns else None
            if isinstance(regex, re.Pattern):
                out.append((rule, regex))
        return out

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The owners CODEOWNERS gives ``path`` (the last matching rule wins)."""
        for rule, regex in self._owner_patterns:
            if regex.match(path):
                return rule.owners
        return ()


# -- parsing ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)([^*_].*?)(?:\*\*|__)\s*:?\s*$")
_HTML_H = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.I)
_TAGS = re.compile(r"<[^>]+>")


def parse_headings(text: str) -> tuple[Heading, ...]:
    """Headings in Markdown (ATX and setext), reStructuredText, HTML or bold-line style."""
    out: list[Heading] = []
    lines = text.splitlines()
    in_code = False
    rst_levels: list[str] = []
    skip = 0
    if lines and lines[0].strip() == "---":  # front matter is metadata, not headings
        skip = next((i + 1 for i in range(1, min(len(lines), 400)) if lines[i].strip() == "---"), 0)
    for i, line in enumerate(lines):
        if i < skip:
            continue
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        if m := _ATX.match(line):
            out.append(Heading(len(m.group(1)), m.group(2).strip(), i + 1))
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            line.strip()
            and not line.startswith(" ")
            and (u := _UNDERLINE.match(nxt))
            and len(nxt.strip()) >= min(len(line.strip()), 3)
            and not _UNDERLINE.match(line)
        ):
            char = u.group(1)
            if char not in rst_levels:
                rst_levels.append(char)
            level = {"=": 1, "-": 2}.get(char, rst_levels.index(char) + 1)
            out.append(Heading(min(level, 6), line.strip(), i + 1))
            continue
        if m := _BOLD_LINE.match(line):
            out.append(Heading(6, m.group(1).strip().rstrip(":").strip(), i + 1))
            continue
        for h in _HTML_H.finditer(line):
            out.append(Heading(int(h.group(1)), _TAGS.sub("", h.group(2)).strip(), i + 1))
    return tuple(out)


def _front_matter(facts: Facts, rel: str, text: str) -> dict[str, Any] | None:
    if not text.startswith("---"):
        return None
    lines = text.splitlines()
    end = next((i for i in range(1, min(len(lines), 400)) if lines[i].strip() == "---"), None)
    if end is None:
        return None
    block = "\n".join(lines[1:end])
    if "{{" in block or "{%" in block:  # a site template, not card metadata
        return None
    data = load_yaml(facts, rel, block)
    return data if isinstance(data, dict) else None


def _dates(text: str) -> tuple[date, ...]:
    found: set[date] = set()
    for y, mo, d in _DATE_ISO.findall(text):
        try:
            found.add(date(int(y), int(mo), int(d)))
        except ValueError:
            continue
    for m in _DATE_WORDS.finditer(text):
        day = m.group(1) or m.group(3) or "1"
        month = next(
            i for i, name in enumerate(_MONTHS, 1) if m.group(2).lower().startswith(name[:3])
        )
        try:
            found.add(date(int(m.group(4)), month, int(day)))
        except ValueError:
            continue
    return tuple(sorted(found))


def _kinds_by_name(rel: str) -> set[str]:
    low = rel.lower()
    slash = low.rfind("/")
    name, parent = low[slash + 1 :], low[: slash + 1]
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""
    if suffix and suffix not in _DOC_SUFFIXES:
        return set()
    stem = name[: -len(suffix)] if suffix else name
    top = parent in _TOP_DIRS
    kinds: set[str] = set()
    if name.startswith("readme") and not parent:
        kinds.add("readme")
    for kind, rx, where in _COMPILED_NAMES:
        if (where == "any" or top) and rx.match(stem):
            kinds.add(kind)
    # a root AUDIT.md or an audit PDF is a report; docs/audit.md is more often a tool's manual
    if re.fullmatch(r"audits?", stem) and (not parent or suffix == ".pdf"):
        kinds.add("audit-report")
    if (
        re.search(r"(^|/)audits?/", parent)
        and suffix
        and not stem.startswith(("readme", "index", "template"))
    ):
        kinds.add("audit-report")
    if (
        _ADR_DIRS.search(parent)
        and suffix in (".md", ".markdown", ".rst", ".txt", ".adoc")
        and not stem.startswith(("readme", "index", "template"))
    ):
        kinds.add("adr" if "rfc" not in parent else "design")
    if re.fullmatch(r"adr[-_]?\d+.*", stem):
        kinds.add("adr")
    if name == "codeowners" and parent in ("", ".github/", "docs/", ".gitlab/", ".bitbucket/"):
        kinds.add("codeowners")
    pr_dirs = (".github/pull_request_template/", ".gitlab/merge_request_templates/")
    if (
        stem == "pull_request_template"
        and parent in ("", ".github/", "docs/", ".azuredevops/", ".vsts/")
    ) or parent.startswith(pr_dirs):
        kinds.add("pr-template")
    if (stem == "issue_template" and parent in ("", ".github/", "docs/")) or parent.startswith(
        (".github/issue_template/", ".gitlab/issue_templates/")
    ):
        kinds.add("issue-template")
    if (
        kinds & {"security", "contributing", "code-of-conduct", "license", "changelog", "design"}
        and parent not in _TOP_DIRS
    ):
        kinds -= {"security", "contributing", "code-of-conduct", "license", "changelog", "design"}
    return kinds


def _issue_template_config(rel: str) -> bool:
    low = rel.lower()
    return low.startswith(".github/issue_template/") and low.endswith((".yml", ".yaml"))


def _project_urls(facts: Facts) -> dict[str, str]:
    files = facts.files
    urls: dict[str, str] = {}
    if files.exists("pyproject.toml") and (text := files.read_text("pyproject.toml")) is not None:
        data = load_toml(facts, "pyproject.toml", text) or {}
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        if isinstance(project, dict) and isinstance(project.get("urls"), dict):
            urls.update({str(k): str(v) for k, v in project["urls"].items()})
        poetry = (
            data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
        )
        if isinstance(poetry, dict):
            for key in ("homepage", "repository", "documentation"):
                if isinstance(poetry.get(key), str):
                    urls[key] = poetry[key]
            if isinstance(poetry.get("urls"), dict):
                urls.update({str(k): str(v) for k, v in poetry["urls"].items()})
    if files.exists("setup.cfg") and (text := files.read_text("setup.cfg")) is not None:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
        except configparser.Error:
            parser = configparser.ConfigParser(interpolation=None)
        if parser.has_option("metadata", "project_urls"):
            for line in parser.get("metadata", "project_urls").splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    urls[key.strip()] = value.strip()
        if parser.has_option("metadata", "url"):
            urls.setdefault("url", parser.get("metadata", "url"))
    setup = facts.python.by_path.get("setup.py") if files.exists("setup.py") else None
    if setup is not None:
        for call, qual in setup.calls():
            if qual.split(".")[-1] != "setup":
                continue
            for kw in call.keywords:
                if kw.arg == "project_urls" and isinstance(kw.value, ast.Dict):
                    for k, v in zip(kw.value.keys, kw.value.values, strict=False):
                        if isinstance(k, ast.Constant) and isinstance(v, ast.Constant):
                            urls[str(k.value)] = str(v.value)
                elif kw.arg == "url" and isinstance(kw.value, ast.Constant):
                    urls.setdefault("url", str(kw.value.value))
    return urls


def _codeowners(text: str) -> list[OwnerRule]:
    out: list[OwnerRule] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "[", "^[")):
            continue
        parts = line.split()
        if any(p.startswith("#") for p in parts[1:]):
            continue  # GitHub skips a line with an inline comment as invalid syntax
        out.append(OwnerRule(parts[0], tuple(parts[1:]), n))
    return out


def gather(facts: Facts) -> DocsFacts:
    """Find and read the repository's documentation files."""
    files = facts.files
    out = DocsFacts()
    for rel in files.files:
        kinds = _kinds_by_name(rel)
        low = rel.lower()
        name = low.rsplit("/", 1)[-1]
        nested_readme = (
            name.startswith("readme") and "/" in rel and name.endswith((".md", ".markdown"))
        )
        if _issue_template_config(rel):
            kinds.add("issue-template")
        if nested_readme and _DATA_DIR.search(low.rsplit("/", 1)[0]):
            kinds.add("data-readme")
        if (
            low in (".github/release.yml", ".github/release.yaml")
            or "release-drafter" in name
            or low.startswith(("changelog.d/", "newsfragments/", ".changeset/", "changes/"))
        ):
            out.release_tooling.append(rel)
            continue
        if not kinds and not nested_readme:
            continue
        if low.endswith(_BINARY_SUFFIXES):
            out.documents.append(Document(rel, frozenset(kinds)))
            continue
        text = files.read_text(rel)
        if text is None:
            continue
        front = _front_matter(facts, rel, text) if low.endswith((".md", ".markdown")) else None
        if front:
            keys = set(front)
            if keys & _HF_MODEL_KEYS:
                kinds.add("model-card")
            elif keys & _HF_DATA_KEYS:
                kinds.add("datasheet")
        if not kinds:
            continue
        headings = (
            parse_headings(text)
            if not low.endswith((".yml", ".yaml")) and name != "codeowners"
            else ()
        )
        out.documents.append(Document(rel, frozenset(kinds), text, headings, front))
    for where in (
        ".github/CODEOWNERS",
        "CODEOWNERS",
        "docs/CODEOWNERS",
        ".gitlab/CODEOWNERS",
        ".bitbucket/CODEOWNERS",
    ):
        found = files.find(where)
        if found is not None:
            text = files.read_text(found)
            if text is not None:
                out.codeowners_path, out.codeowners = found, _codeowners(text)
                break
    if files.exists("pyproject.toml") and "[tool.towncrier" in (
        files.read_text("pyproject.toml") or ""
    ):
        out.release_tooling.append("pyproject.toml")
    out.project_urls = _project_urls(facts)
    return out
