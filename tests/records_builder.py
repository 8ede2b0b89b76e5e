"""Real mlsteward stores as bytes, for audit rule cases that read a project's records.

The store is written by the store's own code into a temporary directory, closed (so the
WAL is checkpointed into the main file) and returned as the bytes of ``steward.db``; a
case puts them at ``.steward/steward.db``.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["dataset_and_model", "store_bytes"]


def dataset_and_model(
    conn: Any,
    run_id: str,
    *,
    name: str = "reviews",
    version: int = 1,
    size: int = 10,
    model_size: int = 20,
    source: str = "web",
    now: float | None = None,
) -> tuple[str, str]:
    """Record dataset version ``name@version`` consumed by ``run_id`` and a model it
    produced; return the two artifact ids."""
    from mlsteward.store.artifacts import add_edge, insert_artifact
    from mlsteward.store.runs import new_id
    from mlsteward.store.schema import dataset_versions, datasets

    now = time.time() if now is None else now
    data = insert_artifact(
        conn,
        kind="dataset",
        digest=f"{version:064x}",
        is_tree=False,
        size=size,
        files=1,
        uri=f"objects/{name}",
        name=f"data/{name}.csv",
    )
    model = insert_artifact(
        conn,
        kind="model",
        digest="e" * 64,
        is_tree=False,
        size=model_size,
        files=1,
        uri="objects/e",
        name="model.skops",
    )
    dataset_id = new_id()
    conn.execute(datasets.insert().values(id=dataset_id, name=name, description="", created=now))
    row = {
        "id": new_id(),
        "dataset_id": dataset_id,
        "version": version,
        "artifact_id": data.id,
        "path": f"data/{name}.csv",
        "source": source,
        "code_commit": "a" * 40,
        "code_dirty": False,
        "created": now,
    }
    conn.execute(dataset_versions.insert().values(**row))
    add_edge(conn, run_id, data.id, "consumed")
    add_edge(conn, run_id, model.id, "produced")
    return data.id, model.id


@functools.cache
def store_bytes(*, runs: int = 2, steps: int = 3, datasets: int = 1, dirty: bool = False) -> bytes:
    """A store holding ``runs`` tracked runs (params, metrics at ``steps`` steps) and
    ``datasets`` dataset versions, each consumed by every run."""
    from mlsteward.store import Store
    from mlsteward.store.artifacts import add_edge, insert_artifact
    from mlsteward.store.events import append_event
    from mlsteward.store.runs import MetricPoint, insert_metrics, insert_run, new_id, set_params
    from mlsteward.store.schema import dataset_versions
    from mlsteward.store.schema import datasets as datasets_table

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "steward.db"
        store = Store.connect(f"sqlite:///{db}")
        now = time.time()
        with store.write() as conn:
            versions = []
            for d in range(datasets):
                art = insert_artifact(
                    conn, kind="dataset", digest=f"{d:064x}", is_tree=False, size=10, files=1,
                    uri=f"objects/{d}", name=f"data/d{d}.csv",
                )  # fmt: skip
                ds_id = new_id()
                conn.execute(
                    datasets_table.insert().values(
                        id=ds_id, name=f"d{d}", description="", created=now
                    )
                )
                version = {
                    "id": new_id(), "dataset_id": ds_id, "version": 1, "artifact_id": art.id,
                    "path": f"data/d{d}.csv", "source": f"data/d{d}.csv",
                    "code_commit": "a" * 40, "code_dirty": False, "created": now,
                }  # fmt: skip
                conn.execute(dataset_versions.insert().values(**version))
                versions.append(art.id)
            for r in range(runs):
                run_id = new_id()
                insert_run(
                    conn,
                    {
                        "id": run_id, "name": f"train-{r}", "experiment": "default",
                        "start_time": now + r, "git_commit": "b" * 40, "git_dirty": dirty,
                        "lock_file": "uv.lock", "lock_hash": "c" * 64,
                    },
                )  # fmt: skip
                set_params(conn, run_id, {"lr": "0.1"})
                points = [MetricPoint("loss", 1.0 / (s + 1), s, now) for s in range(steps)]
                insert_metrics(conn, run_id, points)
                for art_id in versions:
                    add_edge(conn, run_id, art_id, "consumed")
                append_event(conn, "run.start", run_id)
        store.close()
        return db.read_bytes()
