"""Model cards from the records: content, escaping, self-containment, recording, bad input."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlsteward.errors import ConfigError, NotFoundError, PathError, RegistryError
from mlsteward.project import Project
from mlsteward.registry.card_render import flatten
from mlsteward.registry.cards import model_card, write_card
from records_builder import (
    CHECKS,
    add_verdict,
    dataset_and_model,
    move_alias,
    policy_hash,
    register_version,
)

MODELS = """
[tool.steward.models.churn]
intended_use = "Ranking accounts for retention calls."
limitations = "Trained on EU customers only."
"""


def _world(root: Path, *, description: str = "v2 adds tenure", models: str = MODELS) -> str:
    """churn v1 and v2 (from a run on reviews@1), v2 gated, canaried and in production."""
    from sqlalchemy import select

    from mlsteward.store.database import open_store
    from mlsteward.store.runs import MetricPoint, insert_metrics, insert_run, new_id, set_params
    from mlsteward.store.schema import dataset_versions

    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + models)
    store = open_store(Project.open(root))
    with store.write() as conn:
        run_id = new_id()
        insert_run(
            conn,
            {"id": run_id, "name": "train-churn", "experiment": "default",
             "start_time": time.time(), "git_commit": "c" * 40, "git_dirty": True},
        )  # fmt: skip
        set_params(conn, run_id, {"C": "0.5"})
        insert_metrics(conn, run_id, [MetricPoint("val_auc", 0.875, 0, time.time())])
        dataset_and_model(conn, run_id, name="reviews", source="s3://bucket/reviews.csv")
        data = str(conn.execute(select(dataset_versions.c.id)).scalar_one())
        register_version(conn, "churn", 1, run_id=run_id, train=(data,))
        register_version(
            conn, "churn", 2, run_id=run_id, train=(data,), evaluation=(data,),
            description=description,
        )  # fmt: skip
        verdict = add_verdict(
            conn, "churn", 2, policy="production", policy_hash=policy_hash({"a": 1}),
            passed=True, checks=CHECKS, dataset_version_id=data,
        )  # fmt: skip
        move_alias(conn, "churn", "production", 1, reason="first release")
        move_alias(conn, "churn", "canary", 2, reason="try tenure")
        move_alias(conn, "churn", "production", 2, verdict_id=verdict, reason="beats v1")
    return run_id


def _events(root: Path, kind: str) -> list[tuple[str, dict[str, object]]]:
    from mlsteward.store.database import open_store
    from mlsteward.store.events import read_events

    with open_store(Project.open(root)).read() as conn:
        return [(e.subject, dict(e.payload)) for e in read_events(conn, kind=kind)]


def test_the_card_shows_what_the_records_hold(project_dir: Path) -> None:
    run_id = _world(project_dir)
    card = model_card("churn", 2)
    text = card.markdown
    assert text.startswith("# Model card: churn v2\n")
    for expected in (
        "Ranking accounts for retention calls.",  # declared use
        "Trained on EU customers only.",
        "v2 adds tenure",  # the version's description
        "`reviews@1`",  # training data, its hash, source and code commit
        f"{1:064x}"[:12],
        "s3://bucket/reviews.csv",
        "a" * 12,
        run_id,  # the producing run: commit, dirty flag, params, metrics
        "`" + "c" * 40 + "`",
        "yes: uncommitted changes",
        "`val_auc` | `0.875`",
        "accuracy: 0.91",  # evaluation metrics, slices (nested), fairness
        "region / EU / accuracy: 0.9",
        "sex / demographic\\_parity: 0.03",
        policy_hash({"a": 1})[:12],  # the gate verdict
        "beats v1",  # the alias history
        "try tenure",
        "skops",
    ):
        assert expected in text, expected
    assert "Aliases now:** canary, production" in text
    assert "### Slices" in text
    assert "### Fairness" in text
    assert "FORCED" not in text
    # the HTML says the same
    assert "region / EU / accuracy: <code>0.9</code>" in card.html
    assert "Ranking accounts for retention calls." in card.html


def test_missing_declarations_and_records_are_said(project_dir: Path) -> None:
    from mlsteward.store.database import open_store

    store = open_store(Project.open(project_dir))
    with store.write() as conn:
        register_version(conn, "bare", 1, commit=None, dirty=None, forced=True)
    card = model_card("bare", 1)
    assert card.markdown.count("not declared") == 3  # intended use, limitations, version
    assert "No producing run is recorded." in card.markdown
    assert "No gate has evaluated this version" in card.markdown
    assert "No alias has ever pointed at this model." in card.markdown
    # a forced registration is flagged at the top, in both formats
    head = card.markdown.split("## ", 1)[0]
    assert "FORCED REGISTRATION" in head
    assert "forced registration</span>" in card.html
    assert '<div class="note fail"><strong>FORCED REGISTRATION' in card.html


def test_user_text_is_inert(project_dir: Path) -> None:
    _world(
        project_dir,
        description="<script>alert(1)</script> [x](javascript:alert(1)) @team",
        models='\n[tool.steward.models.churn]\nintended_use = "<img src=x onerror=alert(2)>"\n',
    )
    card = model_card("churn", 2)
    assert "<script" not in card.html
    assert "<img" not in card.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card.html
    assert "<script" not in card.markdown
    assert "<img" not in card.markdown
    assert "[x](javascript" not in card.markdown  # the brackets are escaped: no link
    assert "@\u200bteam" in card.markdown  # no mention notifies anyone


def test_the_html_is_self_contained(project_dir: Path) -> None:
    _world(project_dir)
    page = model_card("churn", 2).html
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    assert "<style>" in page
    assert not re.search(r"<(link|script|img|iframe)\b", page)
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)


def test_an_alias_names_the_version(project_dir: Path) -> None:
    _world(project_dir)
    assert model_card("churn", "production").version == 2
    assert model_card("churn", "1").markdown.startswith("# Model card: churn v1\n")


def test_write_card_writes_both_files_and_records_them(project_dir: Path) -> None:
    from mlsteward.artifacts import open_objects
    from mlsteward.store.artifacts import get_artifact
    from mlsteward.store.database import open_store

    _world(project_dir)
    written = write_card("churn", "production")
    assert written.markdown_path == project_dir / "model-cards" / "churn-v2.md"
    assert written.html_path == project_dir / "model-cards" / "churn-v2.html"
    assert written.markdown_path.read_text() == written.card.markdown
    html = written.html_path.read_text()
    assert html == written.card.html
    ((subject, payload),) = _events(project_dir, "model.card")
    assert subject == "model:churn@2"
    assert payload["artifact"] == written.artifact_id
    project = Project.open(project_dir)
    with open_store(project).read() as conn:
        artifact = get_artifact(conn, written.artifact_id)
    assert (artifact.kind, artifact.name) == ("report", "model-cards/churn-v2.html")
    assert open_objects(project).read_bytes(artifact.hash) == html.encode()


def test_write_card_into_a_chosen_directory(project_dir: Path) -> None:
    _world(project_dir)
    (project_dir / "docs").mkdir()
    written = write_card("churn", 1, out_dir="docs/cards")
    assert written.html_path == project_dir / "docs" / "cards" / "churn-v1.html"
    assert [s for s, _ in _events(project_dir, "model.card")] == ["model:churn@1"]


@pytest.mark.parametrize(
    ("name", "version", "code"),
    [
        ("nope", 1, "model-not-found"),
        ("churn", 7, "version-not-found"),
        ("churn", "staging", "alias-not-found"),
        ("churn", "Bad Alias", "alias-name"),
        ("bad name!", 1, "model-name"),
    ],
)
def test_unknown_model_version_or_alias(
    project_dir: Path, name: str, version: int | str, code: str
) -> None:
    _world(project_dir)
    with pytest.raises((NotFoundError, RegistryError)) as info:
        write_card(name, version)
    assert info.value.code == code
    assert info.value.hint
    assert not (project_dir / "model-cards").exists()
    assert _events(project_dir, "model.card") == []


def test_bad_output_directory_records_nothing(project_dir: Path, tmp_path: Path) -> None:
    _world(project_dir)
    with pytest.raises(PathError) as outside:
        write_card("churn", 2, out_dir=tmp_path / "elsewhere")
    assert outside.value.code == "path-outside"
    (project_dir / "afile").write_text("x")
    with pytest.raises(PathError) as a_file:
        write_card("churn", 2, out_dir="afile")
    assert a_file.value.code == "card-output"
    (project_dir / "ro").mkdir()
    (project_dir / "ro" / "churn-v2.md").mkdir()  # a directory where the file must go
    with pytest.raises(PathError) as blocked:
        write_card("churn", 2, out_dir="ro")
    assert blocked.value.code == "card-output"
    assert _events(project_dir, "model.card") == []


def test_a_malformed_models_table_is_a_config_error(project_dir: Path) -> None:
    _world(project_dir, models="\n[tool.steward.models.churn]\nintended_use = 3\n")
    with pytest.raises(ConfigError) as info:
        model_card("churn", 2)
    assert info.value.code == "model-config-type"
    assert "intended_use" in info.value.message


def test_a_models_key_that_is_not_a_table_is_a_config_error(project_dir: Path) -> None:
    _world(project_dir, models="")
    pyproject = project_dir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.steward]\nmodels = "churn"\n')
    with pytest.raises(ConfigError) as info:
        model_card("churn", 2)
    assert info.value.code == "model-config-type"
    assert "[tool.steward.models] must be a table" in info.value.message


def test_measured_values_render_generically() -> None:
    assert flatten(0.5) == [("", "0.5")]
    assert flatten({"accuracy": 0.91234567}) == [("accuracy", "0.9123")]
    nested = {"region": {"EU": {"auc": 0.9, "n": 120}}, "ok": True, "none": None}
    assert flatten(nested) == [
        ("region / EU / auc", "0.9"),
        ("region / EU / n", "120"),
        ("ok", "yes"),
        ("none", "—"),
    ]
    assert flatten({"groups": ["a", "b"]}) == [("groups", "a, b")]
    assert flatten(">= 0.8") == [("", ">= 0.8")]
    assert json.dumps(flatten(float("nan")))  # NaN renders as text, not an error


E2E_PYPROJECT = """\
[project]
name = "demo"
version = "0"

[tool.steward.gates.production]
metrics = { accuracy = ">= 0.8" }

[tool.steward.models.churn]
intended_use = "Ranking accounts for retention calls."
limitations = "Trained on EU customers only."
"""


def test_the_audit_verifies_a_release_made_with_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_run: Callable[..., str]
) -> None:
    """Real registry calls, a real card, then the audit reads the store in .steward/."""
    from mlsteward.audit import AuditOptions, audit
    from mlsteward.audit.rule import Strength
    from mlsteward.registry import get_version, promote, register_model
    from mlsteward.registry.policy import policy_for
    from mlsteward.registry.verdicts import record_verdict
    from mlsteward.store.database import dispose_all, open_store
    from repo_builder import build_repo

    root = build_repo(
        tmp_path / "p", {"pyproject.toml": E2E_PYPROJECT, "uv.lock": "version = 1\n"}, use_git=True
    )
    monkeypatch.chdir(root)
    for name in ("STEWARD_STORE", "STEWARD_OBJECTS", "STEWARD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    run = make_run(root)
    project = Project.open(root)
    policy = policy_for(project, "production")
    assert policy is not None
    for n in (1, 2):
        register_model(name="churn", run=run, description=f"version {n}")
        with open_store(project).write() as conn:
            verdict = record_verdict(
                conn, version_id=get_version(f"churn@{n}").id, subject=f"model:churn@{n}",
                policy="production", policy_hash=policy.hash, passed=True, checks=CHECKS,
            )  # fmt: skip
        promote("churn", n, "production", reason=f"release {n}")
    written = write_card("churn", "production")
    assert "reviews@1" in written.card.markdown
    assert verdict.id
    dispose_all()  # the audit reads the file as a user's next command would

    codes = ["MOD001", "MOD003", "GOV007", "DPL005", "GOV001"]
    report = audit(root, AuditOptions(select=codes, extra_context={"deployed": True}))
    results = {r.code: r for r in report.rules}
    assert {c: results[c].status.value for c in codes} == {
        "MOD001": "passed",
        "MOD003": "passed",
        "GOV007": "passed",
        "DPL005": "partial",  # the previous version is kept; rollback is a command away
        "GOV001": "passed",
    }
    for code in codes:
        assert any(e.strength == Strength.VERIFIED for e in results[code].evidence), code
