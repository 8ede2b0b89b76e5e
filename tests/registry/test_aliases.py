"""Aliases: promotion (with gate policies and canary time), rollback, history, races."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlsteward.errors import NotFoundError, RegistryError
from mlsteward.project import Project
from mlsteward.registry import (
    alias_history,
    delete_version,
    get_version,
    promote,
    register_model,
    rollback,
)
from mlsteward.registry.policy import policy_for
from mlsteward.registry.verdicts import record_verdict
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.schema import alias_moves, aliases, registered_models


def _versions(run: str, n: int) -> None:
    for _ in range(n):
        register_model(name="churn", run=run)


def _consistent(moves: list) -> None:  # type: ignore[type-arg]
    by_alias: dict[str, int | None] = {}
    for move in moves:
        assert move.from_version == by_alias.get(move.alias), moves
        by_alias[move.alias] = move.to_version


def test_promote_rollback_history(project_dir: Path, trained: str) -> None:
    _versions(trained, 3)
    first = promote("churn", 1, "production", reason="first release")
    assert (first.from_version, first.to_version, first.kind) == (None, 1, "promote")
    promote("churn", 2, "production", reason="better")
    promote("churn", 3, "production", reason="best")
    promote("churn", 3, "staging", reason="also here")
    assert get_version("churn@production").aliases == ("production", "staging")
    back = rollback("churn", "production", reason="3 is broken")
    assert (back.from_version, back.to_version, back.kind) == (3, 2, "rollback")
    again = rollback("churn", "production")  # two rollbacks go two steps back
    assert (again.from_version, again.to_version) == (2, 1)
    with pytest.raises(RegistryError) as err:
        rollback("churn", "production")
    assert err.value.code == "rollback-empty"
    assert "@1 -> @2 (promote)" in (err.value.hint or "")
    assert get_version("churn@production").version == 1
    assert get_version("churn@staging").version == 3
    history = alias_history("churn")
    assert [(m.alias, m.from_version, m.to_version, m.kind) for m in history] == [
        ("production", None, 1, "promote"),
        ("production", 1, 2, "promote"),
        ("production", 2, 3, "promote"),
        ("staging", None, 3, "promote"),
        ("production", 3, 2, "rollback"),
        ("production", 2, 1, "rollback"),
    ]
    assert [m.reason for m in alias_history("churn", "staging")] == ["also here"]
    assert history[4].reason == "3 is broken"
    assert history[0].actor
    _consistent(history)
    with open_store(Project.open()).read() as conn:
        kinds = [(e.kind, e.subject) for e in read_events(conn) if e.kind.startswith("model.")]
    assert kinds[-2:] == [("model.rollback", "model:churn@2"), ("model.rollback", "model:churn@1")]


def test_a_promotion_after_a_rollback_is_rolled_back_to_where_it_came_from(
    project_dir: Path, trained: str
) -> None:
    _versions(trained, 3)
    promote("churn", 1, "production", reason="a")
    promote("churn", 2, "production", reason="b")
    rollback("churn", "production")  # 1
    promote("churn", 3, "production", reason="c")
    assert rollback("churn", "production").to_version == 1


def test_rollback_refuses_a_deleted_version(project_dir: Path, trained: str) -> None:
    _versions(trained, 2)
    promote("churn", 1, "production", reason="a")
    promote("churn", 2, "production", reason="b")
    delete_version("churn", 1, reason="leaked data")
    with pytest.raises(RegistryError) as err:
        rollback("churn", "production")
    assert err.value.code == "rollback-empty"
    assert "deleted" in err.value.message
    assert get_version("churn@production").version == 2  # nothing moved


def test_bad_moves(project_dir: Path, trained: str) -> None:
    _versions(trained, 1)
    cases = [
        (lambda: promote("churn", 1, "Production", reason="x"), "alias-name"),
        (lambda: promote("churn", 1, "-x", reason="x"), "alias-name"),
        (lambda: promote("churn", 1, "a" * 65, reason="x"), "alias-name"),
        (lambda: promote("churn", 1, "production", reason=""), "reason-missing"),
        (lambda: promote("churn", 0, "production", reason="x"), "version-number"),
        (lambda: promote("churn", "two", "production", reason="x"), "version-number"),  # type: ignore[arg-type]
        (lambda: rollback("bad name", "production"), "model-name"),
    ]
    for call, code in cases:
        with pytest.raises(RegistryError) as err:
            call()
        assert err.value.code == code
    for call, code in [
        (lambda: promote("nope", 1, "production", reason="x"), "model-not-found"),
        (lambda: promote("churn", 9, "production", reason="x"), "version-not-found"),
        (lambda: rollback("churn", "production"), "alias-not-found"),
        (lambda: alias_history("nope"), "model-not-found"),
    ]:
        with pytest.raises(NotFoundError) as nerr:
            call()
        assert nerr.value.code == code
    promote("churn", 1, "production", reason="x")
    with pytest.raises(RegistryError) as err:
        promote("churn", 1, "production", reason="again")
    assert err.value.code == "alias-unchanged"
    assert len(alias_history("churn")) == 1


_POLICY = """
[tool.steward.gates.production]
metrics = {{ accuracy = ">= {threshold}" }}
canary_minutes = {minutes}
"""


def _policy(root: Path, threshold: float = 0.8, minutes: float = 0) -> None:
    text = (root / "pyproject.toml").read_text().split("\n[tool.steward.gates")[0]
    (root / "pyproject.toml").write_text(
        text + _POLICY.format(threshold=threshold, minutes=minutes)
    )


def _verdict(name: str, number: int, passed: bool) -> str:
    project = Project.open()
    policy = policy_for(project, "production")
    assert policy is not None
    version = get_version(f"{name}@{number}")
    with open_store(project).write() as conn:
        row = record_verdict(
            conn,
            version_id=version.id,
            subject=f"model:{name}@{number}",
            policy="production",
            policy_hash=policy.hash,
            passed=passed,
            checks=[{"check": "metrics.accuracy", "passed": passed, "measured": 0.9}],
        )
    return row.id


def test_a_policy_needs_a_passing_verdict(project_dir: Path, trained: str) -> None:
    _versions(trained, 2)
    _policy(project_dir)
    with pytest.raises(RegistryError) as err:
        promote("churn", 1, "production", reason="ship")
    assert err.value.code == "promotion-refused"
    assert "no verdict" in err.value.message
    assert "[tool.steward.gates.production]" in err.value.message
    assert "steward gate run churn 1 --policy production" in (err.value.hint or "")
    _verdict("churn", 1, passed=False)
    with pytest.raises(RegistryError, match=r"failed: metrics\.accuracy"):
        promote("churn", 1, "production", reason="ship")
    promote("churn", 1, "staging", reason="no policy here")  # other aliases are free
    ok = _verdict("churn", 1, passed=True)
    move = promote("churn", 1, "production", reason="ship")
    assert move.verdict_id == ok
    assert alias_history("churn", "production")[0].verdict_id == ok
    _verdict("churn", 2, passed=True)
    _policy(project_dir, threshold=0.9)  # the policy changed: the old verdict no longer counts
    with pytest.raises(RegistryError, match="earlier version of the policy"):
        promote("churn", 2, "production", reason="ship")
    _verdict("churn", 2, passed=True)
    promote("churn", 2, "production", reason="ship")
    assert rollback("churn", "production", reason="emergency").to_version == 1


def test_a_policy_can_ask_for_time_at_canary(project_dir: Path, trained: str) -> None:
    _versions(trained, 2)
    _policy(project_dir, minutes=30)
    _verdict("churn", 1, passed=True)
    _verdict("churn", 2, passed=True)
    with pytest.raises(RegistryError) as err:
        promote("churn", 1, "production", reason="ship")
    assert err.value.code == "promotion-refused"
    assert "has never held canary" in err.value.message
    promote("churn", 1, "canary", reason="try it")
    with pytest.raises(RegistryError, match="needs 30 minutes at canary first, and it has held"):
        promote("churn", 1, "production", reason="ship")
    # version 2 went to canary an hour ago (written as the move would have been then)
    store = open_store(Project.open())
    with store.write() as conn:
        model_id = (
            conn.execute(registered_models.select().where(registered_models.c.name == "churn"))
            .one()
            .id
        )
        conn.execute(
            alias_moves.insert().values(
                model_id=model_id, alias="canary", from_version=1, to_version=2,
                kind="promote", reason="earlier", time=time.time() - 3600, actor="t",
            )
        )  # fmt: skip
        conn.execute(
            aliases.update()
            .where(aliases.c.model_id == model_id, aliases.c.alias == "canary")
            .values(version=2, revision=aliases.c.revision + 1)
        )
    assert promote("churn", 2, "production", reason="served").to_version == 2


_PROMOTE = """
import os, sys, time
from mlsteward.errors import RegistryError
from mlsteward.registry import promote
version, ready, go = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
try:
    promote("churn", int(version), "production", reason="race " + version)
except RegistryError as exc:
    print(exc.code)
    sys.exit(3)
print("won")
"""


def _race(tmp_path: Path, versions: list[int], tag: str) -> list[tuple[int, str]]:
    go = tmp_path / f"go-{tag}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROMOTE, str(v), str(tmp_path / f"{tag}{i}"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, v in enumerate(versions)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"{tag}{i}").exists() for i in range(len(procs))):
        assert time.monotonic() < deadline, "the promoters did not come up"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()  # the barrier: every process is imported and waiting
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode in (0, 3) for p in procs), outs
    return [(p.returncode, out.strip()) for p, (out, _) in zip(procs, outs, strict=True)]


def test_concurrent_promotions_one_wins_and_the_history_stays_consistent(
    project_dir: Path, trained: str, tmp_path: Path
) -> None:
    _versions(trained, 5)
    promote("churn", 1, "production", reason="start")
    # the same move from several processes: exactly one makes it
    results = _race(tmp_path, [2, 2, 2, 2], "same")
    assert sorted(code for code, _ in results) == [0, 3, 3, 3]
    assert {out for code, out in results if code == 3} <= {"alias-conflict", "alias-unchanged"}
    assert [(m.from_version, m.to_version) for m in alias_history("churn")] == [(None, 1), (1, 2)]
    # different moves: whichever win, every move starts where the one before ended
    results = _race(tmp_path, [3, 4, 5], "different")
    wins = [code for code, _ in results if code == 0]
    assert wins
    assert {out for code, out in results if code == 3} <= {"alias-conflict"}
    history = alias_history("churn", "production")
    assert len(history) == 2 + len(wins)
    _consistent(history)
    assert get_version("churn@production").version == history[-1].to_version
