"""Registry names and lookups shared by registration and aliases.

A model name follows the dataset-name rule; an alias is ``[a-z][a-z0-9_-]{0,63}``. A
reference is ``NAME`` (the newest version that is not deleted), ``NAME@3`` or
``NAME@ALIAS``. Lookups run inside the caller's transaction and raise `NotFoundError`
with codes of their own, listing what exists.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from mlsteward.errors import NotFoundError, RegistryError
from mlsteward.store.datasets import NAME
from mlsteward.store.schema import aliases, model_versions, registered_models

__all__ = [
    "ModelRow",
    "check_alias",
    "check_model_name",
    "check_number",
    "check_reason",
    "find_model",
    "parse_model_ref",
    "resolve_number",
    "subject",
    "when",
]

_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_SHOWN = 20  # how many names an error lists before "..."


@dataclass(frozen=True)
class ModelRow:
    id: str
    name: str
    description: str
    created: float


def subject(name: str, version: int) -> str:
    """The event subject of a model version: ``model:NAME@N``."""
    return f"model:{name}@{version}"


def check_model_name(name: object) -> str:
    """``name`` if it is a valid model name (the dataset-name rule).

    Raises:
        RegistryError: anything else (code ``model-name``).
    """
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise RegistryError(
            f"model name {name!r} is not valid; expected 1-128 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit",
            code="model-name",
            hint="e.g. churn-classifier",
        )
    return name


def check_alias(alias: object) -> str:
    """``alias`` if it is a valid alias name.

    Raises:
        RegistryError: anything else (code ``alias-name``).
    """
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise RegistryError(
            f"alias {alias!r} is not valid; expected a lowercase letter, then up to 63 "
            "lowercase letters, digits, '_' or '-'",
            code="alias-name",
            hint="e.g. staging, canary, production",
        )
    return alias


def check_reason(reason: object, action: str) -> str:
    """A non-empty reason, stripped.

    Raises:
        RegistryError: an empty or non-text reason (code ``reason-missing``).
    """
    if not isinstance(reason, str) or not reason.strip():
        raise RegistryError(
            f"{action} needs a reason; got {reason!r}",
            code="reason-missing",
            hint="say why in a few words: reason=... or --reason TEXT",
        )
    return reason.strip()


def parse_model_ref(ref: object) -> tuple[str, int | str | None]:
    """Split ``NAME[@VERSION|@ALIAS]``: None means the newest, an int a version, a str an alias.

    Raises:
        RegistryError: a bad name (``model-name``), alias (``alias-name``) or version.
    """
    if not isinstance(ref, str):
        raise RegistryError(
            f"a model reference is a str like 'churn', 'churn@3' or 'churn@production', "
            f"got {ref!r:.80}",
            code="model-name",
            hint="pass NAME, NAME@VERSION or NAME@ALIAS",
        )
    name, _, tail = ref.partition("@")
    check_model_name(name)
    if not tail or tail == "latest":
        return name, None
    if tail.isdigit():
        if int(tail) < 1:
            raise RegistryError(
                f"model reference {ref!r} has version {tail}; versions number from 1",
                code="version-number",
                hint="write NAME@1 or later; NAME alone is the newest",
            )
        return name, int(tail)
    return name, check_alias(tail)


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
    return shown or "none"


def find_model(conn: Connection, name: str) -> ModelRow:
    """The registered model ``name``.

    Raises:
        NotFoundError: no such model (code ``model-not-found``), listing the models.
    """
    row = conn.execute(select(registered_models).where(registered_models.c.name == name)).first()
    if row is None:
        names = list(
            conn.execute(
                select(registered_models.c.name)
                .order_by(registered_models.c.name)
                .limit(_SHOWN + 1)
            ).scalars()
        )
        raise NotFoundError(
            f"no model named {name!r} (models: {_listing(names)})",
            code="model-not-found",
            hint="`steward models list` shows the models; register one with "
            "`steward models register NAME --run RUN`",
        )
    return ModelRow(**row._mapping)


def resolve_number(conn: Connection, model: ModelRow, which: int | str | None) -> int:
    """The version number ``which`` names in ``model``: a number, an alias, or the newest.

    Raises:
        NotFoundError: no such version (``version-not-found``) or alias
            (``alias-not-found``); the message lists what exists.
    """
    if isinstance(which, str):
        number = conn.execute(
            select(aliases.c.version).where(
                aliases.c.model_id == model.id, aliases.c.alias == which
            )
        ).scalar()
        if number is None:
            have = list(
                conn.execute(
                    select(aliases.c.alias, aliases.c.version)
                    .where(aliases.c.model_id == model.id)
                    .order_by(aliases.c.alias)
                )
            )
            listed = [f"{a.alias} -> {a.version}" for a in have]
            raise NotFoundError(
                f"model {model.name!r} has no alias {which!r} (aliases: {_listing(listed)})",
                code="alias-not-found",
                hint=f"`steward models promote {model.name} VERSION --to {which} --reason ...` "
                "sets it",
            )
        return int(number)
    if which is None:
        number = conn.execute(
            select(func.max(model_versions.c.version)).where(
                model_versions.c.model_id == model.id, model_versions.c.deleted.is_(None)
            )
        ).scalar()
        if number is None:
            raise NotFoundError(
                f"model {model.name!r} has no version that is not deleted",
                code="version-not-found",
                hint=f"register one: `steward models register {model.name} --run RUN`",
            )
        return int(number)
    found = conn.execute(
        select(model_versions.c.version).where(
            model_versions.c.model_id == model.id, model_versions.c.version == which
        )
    ).scalar()
    if found is None:
        top = conn.execute(
            select(func.max(model_versions.c.version)).where(model_versions.c.model_id == model.id)
        ).scalar()
        span = f"versions 1 to {top}" if top else "no versions"
        raise NotFoundError(
            f"model {model.name!r} has no version {which} (it has {span})",
            code="version-not-found",
            hint=f"`steward models show {model.name}` lists its versions",
        )
    return which


def check_number(version: object) -> int:
    """A version number from 1 (an int, or text of digits).

    Raises:
        RegistryError: anything else (code ``version-number``).
    """
    text = str(version)
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise RegistryError(
            f"a model version is a number from 1, got {version!r}",
            code="version-number",
            hint="`steward models show NAME` lists the versions",
        )
    return int(text)


def when(stamp: float) -> str:
    """A time as people read it in messages: local, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
