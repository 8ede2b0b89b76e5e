"""Profiles of dataset versions, stored as artifacts, on both store backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from mlsteward.data.datasets import add_dataset, get_version
from mlsteward.data.profile import load_profile, profile, save_profile
from mlsteward.errors import NotFoundError, StewardError
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.schema import artifacts, dataset_versions


def test_a_dataset_version_is_profiled_stored_and_loaded(project_dir: Path) -> None:
    project = Project.open()
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"x": rng.normal(size=3_000), "s": rng.choice(["a", "b"], 3_000)})
    (project_dir / "data").mkdir()
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), project_dir / "data" / "r.parquet"
    )
    add_dataset(project, "data/r.parquet", "reviews")
    (project_dir / "tree").mkdir()
    frame.iloc[:1_000].to_csv(project_dir / "tree" / "a.csv", index=False)
    frame.iloc[1_000:].to_csv(project_dir / "tree" / "b.csv", index=False)
    (project_dir / "tree" / "README").write_text("not data")
    add_dataset(project, "tree", "reviews")

    for ref in ("reviews@1", "reviews@2"):
        prof = profile(ref, project=project)
        assert prof.rows == 3_000
        assert prof.columns["x"].mean == pytest.approx(frame["x"].mean(), rel=1e-12)
    assert load_profile(project, "reviews@1") is None
    artifact = save_profile(project, "reviews@1")
    assert artifact.kind == "profile"
    loaded = load_profile(project, "reviews@1")
    assert loaded is not None
    assert loaded.rows == 3_000
    assert dict(loaded.columns["s"].frequent()) == frame["s"].value_counts().to_dict()
    version = get_version(project, "reviews@1")
    with open_store(project).read() as conn:
        row = conn.execute(
            select(dataset_versions.c.profile_artifact_id).where(
                dataset_versions.c.id == version.id
            )
        ).one()
        kind = conn.execute(select(artifacts.c.kind).where(artifacts.c.id == artifact.id)).scalar()
        events = read_events(conn, kind="dataset.profile")
    assert row.profile_artifact_id == artifact.id
    assert kind == "profile"
    assert [(e.subject, e.payload["artifact"]) for e in events] == [("reviews@1", artifact.id)]
    assert load_profile(project, "reviews@2") is None
    with pytest.raises(NotFoundError):
        profile("reviews@9", project=project)


def test_a_corrupt_stored_profile_is_a_clear_error(project_dir: Path) -> None:
    project = Project.open()
    (project_dir / "d.csv").write_text("a\n1\n2\n")
    add_dataset(project, "d.csv", "d")
    artifact = save_profile(project, "d@1")
    path = project.workspace / "objects" / "sha256" / artifact.hash[:2] / artifact.hash[2:]
    path.chmod(0o644)
    path.write_bytes(b"steward-profile/1\n" + b"\x00" * 20)
    with pytest.raises(StewardError) as err:  # the object store notices first
        load_profile(project, "d@1")
    assert err.value.code in ("object-corrupt", "profile-corrupt")
