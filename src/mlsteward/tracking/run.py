"""`start_run` and `Run`: a tracked run's params, tags, metrics, datasets and artifacts.

A run is written to the store the moment it starts (with its provenance, see
`mlsteward.tracking.provenance`), so even a run that is killed at once leaves a record.
Params and tags are written when logged; metric points go through a buffer (see
`mlsteward.tracking.buffer`). A run ends as ``finished`` or, when its ``with`` block
raises, ``failed``; a run left open ends when the interpreter exits (``failed`` if an
uncaught exception is on its way out); a killed process leaves ``running``, which
`mlsteward.store.liveness.reap_crashed` turns into ``crashed``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlsteward.errors import RecordError, StewardError
from mlsteward.project import Project
from mlsteward.store.artifacts import ArtifactRow
from mlsteward.store.database import Store, open_store
from mlsteward.store.datasets import DatasetVersionRow
from mlsteward.store.events import append_event
from mlsteward.store.runs import (
    MetricPoint,
    finish_run,
    insert_metrics,
    insert_run,
    new_id,
    put_environment,
    set_params,
    set_seeds,
    set_tags,
)
from mlsteward.tracking import buffer as _buffer
from mlsteward.tracking import exits, provenance
from mlsteward.tracking.seeds import apply_seed, current_seeds
from mlsteward.tracking.validation import (
    check_key,
    check_name,
    check_step,
    check_time,
    metric_value,
    texts,
)

if TYPE_CHECKING:
    from mlsteward.data.datasets import DatasetVersion
    from mlsteward.registry.versions import ModelVersion

__all__ = ["PARENT_TAG", "Run", "active_run", "start_run"]

PARENT_TAG = "steward.parent"
MAX_ERROR = 2000
_ENDINGS = ("finished", "failed")
_log = logging.getLogger("mlsteward")


def active_run() -> Run | None:
    """The innermost run started in this process and not yet ended, if any."""
    return exits.innermost()  # type: ignore[return-value]


def start_run(
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    experiment: str = "default",
    tags: Mapping[str, Any] | None = None,
    seed: int | None = None,
    nested: bool = False,
    project: Project | str | Path | None = None,
) -> Run:
    """Start a run: record it with its provenance, params and tags, and make it active.

    Use it as a context manager (``with start_run(...) as run:``) to end the run when the
    block ends, or call ``run.end()``.

    Args:
        name: what the run is called (default: the script's name).
        params: how the run is set up; values are stored as ``str(value)``.
        experiment: the group the run belongs to.
        tags: labels that may change later.
        seed: seed random, numpy and torch first (`seed_everything`).
        nested: start a child of the active run (tag ``steward.parent``).
        project: a Project, a path inside one, or None for the working directory's.

    Raises:
        RecordError: a run is already active and ``nested`` is false (code
            ``run-active``), or a name, key or value is invalid.
        StoreError: the store cannot be opened or written.
    """
    parent = active_run()
    if parent is not None and not nested:
        raise RecordError(
            f"run {parent.name!r} ({parent.id}) is still active in this process",
            code="run-active",
            hint="end it first (leave its `with` block or call run.end()), or pass "
            "nested=True to start a child run",
        )
    name = check_name(name if name is not None else exits.script_name(), "a run name")
    experiment = check_name(experiment, "an experiment name")
    param_texts = texts(params, "param")
    tag_texts = texts(tags, "tag")
    if parent is not None:
        tag_texts[PARENT_TAG] = parent.id
    if seed is not None:
        apply_seed(seed)
    proj = Project.of(project)
    store = open_store(proj)
    prov = provenance.capture(proj.root)
    env = prov.environment
    seeds = current_seeds()
    run_id, now = new_id(), time.time()
    with store.write() as conn:
        put_environment(conn, env.hash, env.python, env.packages)
        insert_run(
            conn,
            {
                "id": run_id,
                "name": name,
                "experiment": experiment,
                "start_time": now,
                "heartbeat": now,
                "seeds": json.dumps(seeds, sort_keys=True) if seeds else None,
                **prov.columns(),
            },
        )
        set_params(conn, run_id, param_texts)
        set_tags(conn, run_id, tag_texts)
        append_event(
            conn,
            "run.start",
            run_id,
            {"name": name, "experiment": experiment, "parent": parent.id if parent else None},
        )
    run = Run(run_id, name, proj, store)
    run.activate()
    return run


class Run:
    """A run being tracked. `start_run` makes one; the constructor only stores."""

    def __init__(self, run_id: str, name: str, project: Project, store: Store) -> None:
        self.id = run_id
        self.name = name
        self.project = project
        self.store = store
        self.status = "running"
        self.pid = os.getpid()
        self._buffer = _buffer.MetricBuffer(store, run_id, limit=_buffer.FLUSH_POINTS)
        self._flusher = _buffer.Flusher(self._buffer, every=_buffer.FLUSH_SECONDS)
        self._keys: set[str] = set()  # metric keys already checked
        self._warned: set[str] = set()  # keys already warned about a non-finite value
        self._ended = False
        self._end_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
            self.end()
            return
        try:
            self.end("failed", error=describe(exc))
        except StewardError as problem:  # the user's exception matters more; keep it
            _log.warning("run %s could not be ended as failed: %s", self.id, problem)

    def activate(self) -> None:
        """Make this the active run and start writing its metrics in the background."""
        exits.push(self)
        self._flusher.start()

    # -- metrics (the hot path) -----------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int | None = None, *, timestamp: float | None = None
    ) -> None:
        """Record one value of a metric (buffered; see `mlsteward.tracking.buffer`).

        Args:
            key: the metric's name.
            value: a real number; NaN and infinities are stored as they are, with a warning.
            step: an int from 0; by default one past this key's last step (0 at first).
            timestamp: seconds since the epoch; by default now.

        Raises:
            RecordError: codes ``record-key``, ``metric-value``, ``metric-step``,
                ``metric-time``, ``run-ended``.
        """
        if self._ended:
            raise self._ended_error()
        if type(key) is not str or key not in self._keys:
            self._keys.add(check_key(key))
        number = value if type(value) is float else metric_value(value, key)
        if not math.isfinite(number) and key not in self._warned:
            self._warn_nonfinite(key, number)
        if step is not None:
            step = check_step(step, key)
        when = time.time() if timestamp is None else check_time(timestamp, key)
        self._buffer.add(key, number, step, when)

    def log_metrics(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Record several metrics at one step and one time (buffered)."""
        when = time.time()
        for key, value in values.items():
            self.log_metric(key, value, step, timestamp=when)

    def log_batch(
        self,
        metrics: Iterable[MetricPoint | tuple[Any, ...]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write metric points, params and tags at once, in one transaction (no buffer).

        Args:
            metrics: `MetricPoint` objects or ``(key, value)`` / ``(key, value, step)``
                tuples (a missing or None step counts per key, as in `log_metric`).
            params: params to record, as in `log_params`.
            tags: tags to set, as in `set_tags`.
        """
        self._check_open()
        now = time.time()
        checked: list[tuple[str, float, int | None, float]] = []
        for item in metrics:
            if isinstance(item, MetricPoint):
                key, value, step, when = item.key, item.value, item.step, item.time
            elif isinstance(item, tuple) and len(item) in (2, 3):
                key, value, step, when = item[0], item[1], (item[2:] or (None,))[0], now
            else:
                raise RecordError(
                    f"a batch metric must be a MetricPoint or a (key, value[, step]) tuple, "
                    f"got {item!r:.80}",
                    code="metric-value",
                    hint="pass metrics=[('loss', 0.3, 1), ...]",
                )
            if type(key) is not str or key not in self._keys:
                self._keys.add(check_key(key))
            number = metric_value(value, key)
            if not math.isfinite(number) and key not in self._warned:
                self._warn_nonfinite(key, number)
            step = None if step is None else check_step(step, key)
            checked.append((key, number, step, check_time(when, key)))
        param_texts, tag_texts = texts(params, "param"), texts(tags, "tag")
        steps = self._buffer.steps([(k, s) for k, _, s, _ in checked])
        points = [MetricPoint(k, v, s, t) for (k, v, _, t), s in zip(checked, steps, strict=True)]
        with self.store.write() as conn:
            set_params(conn, self.id, param_texts)
            set_tags(conn, self.id, tag_texts)
            insert_metrics(conn, self.id, points)

    def flush(self) -> None:
        """Write the buffered metric points now."""
        self._buffer.flush()

    def _warn_nonfinite(self, key: str, value: float) -> None:
        self._warned.add(key)
        _log.warning(
            "run %s: metric %r is %s; it is stored as it is (warned once per metric)",
            self.id,
            key,
            value,
        )

    # -- params and tags -----------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Record one param (stored as ``str(value)``; a param never changes)."""
        self.log_params({key: value})

    def log_params(self, values: Mapping[str, Any]) -> None:
        """Record params at once, in one transaction.

        Raises:
            RecordError: a bad key (``record-key``), a value over 64 KiB
                (``param-too-large``), or a param logged before with another value
                (``param-changed``); nothing is written then.
        """
        self._check_open()
        checked = texts(values, "param")
        with self.store.write() as conn:
            set_params(conn, self.id, checked)

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (stored as ``str(value)``; the last value wins)."""
        self.set_tags({key: value})

    def set_tags(self, values: Mapping[str, Any]) -> None:
        """Set tags at once, in one transaction."""
        self._check_open()
        checked = texts(values, "tag")
        with self.store.write() as conn:
            set_tags(conn, self.id, checked)

    def record_seeds(self, seeds: Mapping[str, int]) -> None:
        """Record the seeds set while this run is active (`seed_everything` calls this)."""
        self._check_open()
        with self.store.write() as conn:
            set_seeds(conn, self.id, seeds)

    # -- datasets and artifacts ----------------------------------------------------------

    def use_dataset(self, ref: str) -> DatasetVersionRow:
        """Record that this run consumed a dataset version (``name`` or ``name@3``)."""
        from mlsteward.tracking.artifacts import use_dataset

        self._check_open()
        return use_dataset(self.store, self.id, ref)

    def log_dataset(
        self, path: str | Path, name: str, *, source: str | None = None
    ) -> DatasetVersion:
        """Add a file or directory as a new version of dataset ``name``, produced by this run."""
        from mlsteward.data.datasets import add_dataset

        self._check_open()
        return add_dataset(self.project, path, name, source=source, run_id=self.id)

    def log_artifact(
        self, path: str | Path, *, kind: str | None = None, name: str | None = None
    ) -> ArtifactRow:
        """Store a file or directory of the project in the object store; record it as produced.

        Args:
            path: inside the project (relative to the working directory).
            kind: the artifact kind; by default ``model`` for model file suffixes
                (.skops, .onnx, .pt, ...) and ``file`` otherwise.
            name: how the record names it; by default its path relative to the root.
        """
        from mlsteward.tracking.artifacts import log_artifact

        self._check_open()
        return log_artifact(self.project, self.store, self.id, path, kind=kind, name=name)

    def log_model(self, model: Any, name: str, example: Any, **kw: Any) -> ModelVersion:
        """Save ``model`` in a safe format and register it as the next version of ``name``.

        This run is its provenance: its git commit, and the dataset versions it used
        (`use_dataset`) as training data unless ``datasets=[...]`` says otherwise. Other
        keywords are those of `mlsteward.register_model` (``datasets``, ``force``,
        ``description``, ``format``, ``trust``).
        """
        from mlsteward.registry.register import register_model

        self._check_open()
        return register_model(model, name, run=self.id, example=example, project=self.project, **kw)

    # -- ending --------------------------------------------------------------------------

    def end(self, status: str = "finished", *, error: str | None = None) -> None:
        """Write the buffered points and end the run as ``finished`` or ``failed``.

        Ending an ended run does nothing.

        Raises:
            RecordError: another status (code ``run-status``).
        """
        if status not in _ENDINGS:
            raise RecordError(
                f"a run ends as one of {', '.join(_ENDINGS)}, not {status!r}",
                code="run-status",
                hint="crashed is for runs whose process died; the store decides that itself",
            )
        with self._end_lock:
            if self._ended:
                return
            self._ended = True
        self._flusher.stop()
        exits.remove(self)
        error = None if error is None else error[:MAX_ERROR]

        def finish(conn: Any) -> None:
            if finish_run(conn, self.id, status, time.time(), error):
                append_event(conn, "run.end", self.id, {"status": status, "error": error})

        self.status = status
        self._buffer.flush(then=finish)

    @property
    def ended(self) -> bool:
        return self._ended

    def _check_open(self) -> None:
        if self._ended:
            raise self._ended_error()

    def _ended_error(self) -> RecordError:
        return RecordError(
            f"run {self.name!r} ({self.id}) has ended ({self.status})",
            code="run-ended",
            hint="start a new run to record more",
        )


def describe(exc: BaseException) -> str:
    """``TypeName: message`` of an exception, as a failed run records it."""
    text = str(exc)
    kind = type(exc).__name__
    return (f"{kind}: {text}" if text else kind)[:MAX_ERROR]
