"""Model cards: a version's Markdown and self-contained HTML card, from the records alone.

A card says what the records hold about one model version and nothing else: the use
the team declares for the model (``[tool.steward.models.<name>]`` ``intended_use`` and
``limitations``, and the version's description), the training and evaluation data with
their hashes, sources and code commits, the run that produced the model, what its gate
verdicts measured (metrics, slices, fairness), the model's alias history, and its
provenance, format, signature and trust. A registration forced without provenance is
flagged at the top. Whatever is missing is said to be missing ("not declared", "not
recorded"); nothing is inferred.

`write_card` writes ``NAME-vN.md`` and ``NAME-vN.html``, keeps the HTML in the object
store as a ``report`` artifact and appends a ``model.card`` event, in one transaction:
the audit reads that event as proof that the released version has a card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from mlsteward._internal.atomic import write_text_atomic
from mlsteward.artifacts import open_objects
from mlsteward.errors import PathError
from mlsteward.project import Project
from mlsteward.registry.aliases import AliasMove, moves_of
from mlsteward.registry.records import (
    check_alias,
    check_model_name,
    find_model,
    resolve_number,
    subject,
)
from mlsteward.registry.verdicts import VerdictRow, verdicts_of
from mlsteward.registry.versions import ModelVersion, version_in
from mlsteward.store.artifacts import insert_artifact
from mlsteward.store.database import open_store
from mlsteward.store.events import append_event
from mlsteward.store.schema import (
    artifacts,
    dataset_versions,
    datasets,
    model_datasets,
    runs,
)
from mlsteward.store.views import RunView, get_run

__all__ = [
    "DEFAULT_DIR",
    "Card",
    "CardFacts",
    "DataLineage",
    "WrittenCard",
    "card_facts",
    "model_card",
    "write_card",
]

#: where `write_card` puts the files unless told (relative to the working directory)
DEFAULT_DIR = "model-cards"


@dataclass(frozen=True)
class DataLineage:
    """A dataset version the model was trained or evaluated on, as recorded."""

    ref: str  # name@version
    role: str  # train | eval
    hash: str
    source: str
    code_commit: str | None
    code_dirty: bool | None
    run_id: str | None  # the run that made the data, if one did


@dataclass(frozen=True)
class CardFacts:
    """Everything a card shows, read from the records in one snapshot."""

    record: ModelVersion  # the version as the registry holds it: provenance, format, aliases
    model_description: str
    intended_use: str | None
    limitations: str | None
    run: RunView | None
    data: tuple[DataLineage, ...]
    verdicts: tuple[VerdictRow, ...]
    eval_data: Mapping[str, str]  # dataset version id -> name@version, for the verdicts
    history: tuple[AliasMove, ...]  # every alias move of the model

    @property
    def model(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def held(self) -> list[str]:
        """The aliases that point at this version now."""
        return sorted(self.record.aliases)


@dataclass(frozen=True)
class Card:
    """A model card in both formats."""

    model: str
    version: int
    markdown: str
    html: str

    @property
    def stem(self) -> str:
        """The file name without suffix: ``NAME-vN``."""
        return f"{self.model}-v{self.version}"


@dataclass(frozen=True)
class WrittenCard:
    """A card written to disk and recorded."""

    card: Card
    markdown_path: Path
    html_path: Path
    artifact_id: str


def _which(version: int | str) -> int | str:
    """A version number or an alias, from what a caller or the command line gave."""
    if isinstance(version, bool):
        version = str(version)
    if isinstance(version, int):
        return version
    text = str(version).strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return check_alias(text)


def _declared(project: Project, name: str) -> tuple[str | None, str | None]:
    """``intended_use`` and ``limitations`` from ``[tool.steward.models.<name>]``."""
    from mlsteward.models.trust import ModelDeclaration, models_config

    said = models_config(project).declared.get(name, ModelDeclaration())
    return said.intended_use, said.limitations


def card_facts(conn: Connection, project: Project, name: str, version: int | str) -> CardFacts:
    """Read what a card shows about ``name`` version (or alias) ``version``.

    Raises:
        RegistryError: a bad model name, alias or version (``model-name``, ``alias-name``).
        NotFoundError: no such model, version or alias (``model-not-found``,
            ``version-not-found``, ``alias-not-found``).
        ConfigError: ``[tool.steward.models]`` is malformed (``model-config-*``).
    """
    model = find_model(conn, check_model_name(name))
    number = resolve_number(conn, model, _which(version))
    intended, limitations = _declared(project, model.name)
    record = version_in(conn, f"{model.name}@{number}")
    run = None
    if (
        record.run_id is not None
        and conn.execute(select(runs.c.id).where(runs.c.id == record.run_id)).first()
    ):
        run = get_run(conn, record.run_id)
    verdicts = tuple(verdicts_of(conn, record.id))
    return CardFacts(
        record=record,
        model_description=model.description,
        intended_use=intended,
        limitations=limitations,
        run=run,
        data=_lineage(conn, record.id),
        verdicts=verdicts,
        eval_data=_refs(conn, {v.dataset_version_id for v in verdicts} - {None}),
        history=tuple(moves_of(conn, model, None)),
    )


def _lineage(conn: Connection, version_id: str) -> tuple[DataLineage, ...]:
    rows = conn.execute(
        select(
            model_datasets.c.role,
            datasets.c.name,
            dataset_versions.c.version,
            dataset_versions.c.source,
            dataset_versions.c.code_commit,
            dataset_versions.c.code_dirty,
            dataset_versions.c.run_id,
            artifacts.c.hash,
        )
        .join(dataset_versions, dataset_versions.c.id == model_datasets.c.dataset_version_id)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .join(artifacts, artifacts.c.id == dataset_versions.c.artifact_id)
        .where(model_datasets.c.version_id == version_id)
        .order_by(model_datasets.c.role.desc(), datasets.c.name, dataset_versions.c.version)
    )
    return tuple(
        DataLineage(
            f"{r.name}@{r.version}", r.role, r.hash, r.source, r.code_commit, r.code_dirty, r.run_id
        )
        for r in rows
    )


def _refs(conn: Connection, ids: set[str | None]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(dataset_versions.c.id, datasets.c.name, dataset_versions.c.version)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(dataset_versions.c.id.in_(sorted(i for i in ids if i)))
    )
    return {r.id: f"{r.name}@{r.version}" for r in rows}


def model_card(name: str, version: int | str, *, project: Project | None = None) -> Card:
    """The card of ``name`` version ``version`` (a number, or an alias such as production).

    Raises:
        RegistryError: a bad model name, alias or version.
        NotFoundError: no such model, version or alias.
        ConfigError: ``[tool.steward.models]`` is malformed (``model-config-*``).
    """
    from mlsteward.registry.card_render import render_html, render_markdown

    project = project or Project.open()
    store = open_store(project, create=False)
    with store.read() as conn:
        facts = card_facts(conn, project, name, version)
    return Card(facts.model, facts.version, render_markdown(facts), render_html(facts))


def write_card(
    name: str,
    version: int | str,
    *,
    out_dir: str | Path | None = None,
    project: Project | None = None,
) -> WrittenCard:
    """Write ``NAME-vN.md`` and ``NAME-vN.html`` into ``out_dir`` and record the card.

    ``out_dir`` (default ``model-cards`` in the working directory) must resolve inside the
    project. The HTML goes to the object store as a ``report`` artifact and a
    ``model.card`` event names it, in the transaction that writes the files: if a file
    cannot be written, nothing is recorded.

    Raises:
        PathError: ``out_dir`` is outside the project (``path-outside``) or cannot hold
            the files (``card-output``).
        RegistryError, NotFoundError, ConfigError: as `model_card`.
    """
    project = project or Project.open()
    target = project.resolve(out_dir if out_dir is not None else DEFAULT_DIR, must_exist=False)
    if target.exists() and not target.is_dir():
        raise PathError(
            f"{out_dir} is a file; the card needs a directory to write NAME-vN.md and .html in",
            code="card-output",
            hint="pass -o DIR naming a directory (it is created if missing)",
        )
    card = model_card(name, version, project=project)
    objects = open_objects(project)
    info = objects.put_bytes(card.html.encode("utf-8"))
    md_path, html_path = target / f"{card.stem}.md", target / f"{card.stem}.html"
    store = open_store(project)
    with store.write() as conn:
        artifact = insert_artifact(
            conn,
            kind="report",
            digest=info.digest,
            is_tree=False,
            size=info.size,
            files=1,
            uri=objects.uri(info.digest),
            name=project.relative(html_path),
        )
        append_event(
            conn,
            "model.card",
            subject(card.model, card.version),
            {"artifact": artifact.id, "hash": info.digest, "html": project.relative(html_path),
             "markdown": project.relative(md_path)},
        )  # fmt: skip
        try:
            write_text_atomic(md_path, card.markdown)
            write_text_atomic(html_path, card.html)
        except OSError as exc:
            raise PathError(
                f"cannot write the card into {target}: {exc.strerror or exc}",
                code="card-output",
                hint="pass -o DIR naming a writable directory inside the project",
            ) from exc
    return WrittenCard(card, md_path, html_path, artifact.id)
