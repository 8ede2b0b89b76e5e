"""Checking what a run is asked to record, before anything reaches the store.

Each check raises `RecordError` with a stable code and a hint; the store is never touched
by a value that failed. The checks are on the metric hot path, so they are plain
``type(...) is`` tests first and the general case second; callers cache keys they have
already checked.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from typing import Any

from mlsteward.errors import RecordError

__all__ = [
    "MAX_KEY",
    "MAX_VALUE",
    "check_key",
    "check_name",
    "check_step",
    "check_time",
    "metric_value",
    "text_value",
    "texts",
]

MAX_KEY = 250
MAX_VALUE = 64 * 1024  # characters of a param or tag value
MAX_STEP = 2**63 - 1  # the metrics table holds steps as 64-bit integers
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_key(key: object, what: str = "metric") -> str:
    """``key`` if it can name a metric, param or tag: a str of 1-250 printable characters.

    Raises:
        RecordError: anything else (code ``record-key``).
    """
    if type(key) is not str and not isinstance(key, str):
        raise RecordError(
            f"a {what} key must be a str, got {type(key).__name__} {key!r}",
            code="record-key",
            hint=f"name the {what} with a string, e.g. 'loss'",
        )
    if not 1 <= len(key) <= MAX_KEY or _CONTROL.search(key):
        raise RecordError(
            f"{what} key {key[:60]!r} must be 1-{MAX_KEY} characters with no control "
            f"characters (it has {len(key)})",
            code="record-key",
            hint="use a short printable name such as 'val/loss' or 'lr'",
        )
    return str(key)


def check_name(name: object, what: str) -> str:
    """A run or experiment name: the same rule as keys.

    Raises:
        RecordError: the name is not a str of 1-250 printable characters (code ``run-name``).
    """
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_KEY or _CONTROL.search(name):
        raise RecordError(
            f"{what} must be a str of 1-{MAX_KEY} printable characters, got {name!r:.80}",
            code="run-name",
            hint="pass a short name such as 'train' or 'baseline'",
        )
    return name


def metric_value(value: Any, key: str) -> float:
    """``value`` as a float: any real number (int, float, numpy scalar, ``__float__``).

    NaN and infinities pass: they are stored as they are (the caller says so).

    Raises:
        RecordError: a bool, a str, or anything that is not a real number (code
            ``metric-value``).
    """
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    if kind is bool or isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise _not_a_number(value, key)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _not_a_number(value, key) from exc


def _not_a_number(value: Any, key: str) -> RecordError:
    return RecordError(
        f"metric {key!r} must be a real number, got {type(value).__name__} {value!r:.80}",
        code="metric-value",
        hint="log a number (int, float, numpy scalar); log text as a tag or param, a flag as 0/1",
    )


def check_step(step: Any, key: str) -> int:
    """``step`` if it is an int from 0 (numpy integers too, never a bool).

    Raises:
        RecordError: anything else (code ``metric-step``).
    """
    if type(step) is not int:
        given = step
        try:
            step = None if type(given) is bool else operator.index(given)
        except TypeError:
            step = None
        if step is None:
            raise RecordError(
                f"metric {key!r}: step must be an int >= 0, got {type(given).__name__} "
                f"{given!r:.40}",
                code="metric-step",
                hint="pass step=epoch or step=batch_index, or leave it out to count per key",
            )
    if not 0 <= step <= MAX_STEP:
        raise RecordError(
            f"metric {key!r}: step must be an int from 0 to 2**63-1, got {step}",
            code="metric-step",
            hint="count steps from 0",
        )
    return int(step)


def check_time(timestamp: Any, key: str) -> float:
    """A metric's time: finite seconds since the epoch.

    Raises:
        RecordError: not a finite real number (code ``metric-time``).
    """
    try:
        when = float(timestamp) if type(timestamp) is not bool else math.nan
    except (TypeError, ValueError, OverflowError):
        when = math.nan
    if not math.isfinite(when):
        raise RecordError(
            f"metric {key!r}: timestamp must be finite seconds since the epoch, got "
            f"{timestamp!r:.80}",
            code="metric-time",
            hint="pass time.time(), or leave timestamp out",
        )
    return when


def text_value(value: Any, key: str, what: str) -> str:
    """A param or tag value as text (``str(value)``), at most 64 KiB of characters.

    Raises:
        RecordError: the text is longer (code ``param-too-large`` or ``tag-too-large``).
    """
    text = value if type(value) is str else str(value)
    if len(text) > MAX_VALUE:
        hint = "log it as a file with run.log_artifact(path) and record its name here"
        if what == "param":
            raise RecordError(
                f"param {key!r} is {len(text):,} characters; a param holds at most {MAX_VALUE:,}",
                code="param-too-large",
                hint=hint,
            )
        raise RecordError(
            f"tag {key!r} is {len(text):,} characters; a tag holds at most {MAX_VALUE:,}",
            code="tag-too-large",
            hint=hint,
        )
    return text


def texts(values: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    """Checked params or tags (``what``) as ``{key: str(value)}``.

    Raises:
        RecordError: not a mapping, or a bad key or value (``record-key``,
            ``param-too-large``, ``tag-too-large``).
    """
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise RecordError(
            f"{what}s must be a mapping of names to values, got {type(values).__name__}",
            code="record-key",
            hint="pass a dict, e.g. {'lr': 0.1}",
        )
    return {check_key(k, what): text_value(v, k, what) for k, v in values.items()}
