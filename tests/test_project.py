"""A project: finding its root, where its records live, and paths kept inside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlsteward.errors import PathError
from mlsteward.project import Project
from repo_builder import Link, build_repo


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STEWARD_PROJECT", "STEWARD_STORE", "STEWARD_OBJECTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("tree", "start", "root"),
    [
        ({"a": {"b": {"x.py": ""}}}, "a/b", "a/b"),  # nothing marks a root: the start itself
        ({"pyproject.toml": "", "a": {"b": {}}}, "a/b", "."),
        ({".git": {"HEAD": ""}, "a": {"pyproject.toml": "", "b": {}}}, "a/b", "a"),
        ({".git": {"HEAD": ""}, "a": {".steward": {}, "b": {}}}, "a/b", "a"),
        ({"steward.toml": "", "a": {"pyproject.toml": "", "b": {}}}, "a/b", "."),
        ({"a": {"steward.toml": "", "b": {"pyproject.toml": ""}}}, "a/b", "a"),
        # a workspace above the top of the git work tree does not swallow the repository
        ({".steward": {}, "repo": {".git": {"HEAD": ""}, "src": {}}}, "repo/src", "repo"),
    ],
    ids=[
        "nothing",
        "pyproject",
        "nearest-pyproject",
        "workspace",
        "steward-toml-wins",
        "steward-toml-nearer",
        "workspace-above-git",
    ],
)
def test_the_root_is_found_from_below(
    tmp_path: Path, tree: dict[str, object], start: str, root: str
) -> None:
    base = build_repo(tmp_path / "p", tree, use_git=False)  # type: ignore[arg-type]
    (base / start).mkdir(parents=True, exist_ok=True)
    assert Project.open(base / start).root == (base / root).resolve()


def test_the_working_directory_and_steward_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = build_repo(tmp_path / "p", {"pyproject.toml": "", "src": {"m.py": ""}}, use_git=False)
    monkeypatch.chdir(base / "src")
    assert Project.open().root == base.resolve()
    assert Project.open(base / "src" / "m.py").root == base.resolve()  # a file: its folder
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("STEWARD_PROJECT", str(other))
    assert Project.open().root == other.resolve()
    assert Project.open(base).root == base.resolve()  # an explicit path wins
    monkeypatch.setenv("STEWARD_PROJECT", str(tmp_path / "missing"))
    with pytest.raises(PathError, match="path-missing"):
        Project.open()
    with pytest.raises(PathError, match="path-missing"):
        Project.open(tmp_path / "missing")


def test_where_the_records_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Project.open(build_repo(tmp_path / "plain", {"pyproject.toml": ""}, use_git=False))
    assert plain.store_url == f"sqlite:///{plain.root / '.steward' / 'steward.db'}"
    assert plain.objects_url == str(plain.root / ".steward" / "objects")

    config = '[tool.steward]\nstore = "postgresql+psycopg://u@db/records"\nobjects = "s3://b/o"\n'
    configured = Project.open(build_repo(tmp_path / "c", {"pyproject.toml": config}, use_git=False))
    assert configured.store_url == "postgresql+psycopg://u@db/records"
    assert configured.objects_url == "s3://b/o"

    monkeypatch.setenv("STEWARD_STORE", "sqlite:////srv/records.db")
    monkeypatch.setenv("STEWARD_OBJECTS", "/srv/objects")
    assert configured.store_url == "sqlite:////srv/records.db"  # the environment wins
    assert configured.objects_url == "/srv/objects"
    monkeypatch.setenv("STEWARD_STORE", "")  # empty counts as unset
    assert configured.store_url == "postgresql+psycopg://u@db/records"


def test_relative_local_paths_are_taken_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = '[tool.steward]\nstore = "sqlite:///records/s.db"\nobjects = "blobs"\n'
    base = build_repo(tmp_path / "p", {"pyproject.toml": config, "sub": {}}, use_git=False)
    monkeypatch.chdir(base / "sub")
    project = Project.open()
    assert project.store_url == f"sqlite:///{base.resolve() / 'records' / 's.db'}"
    assert project.objects_url == str(base.resolve() / "blobs")
    for url in ("sqlite:////abs/s.db", "sqlite:///:memory:", "sqlite://", "sqlite:///file:x"):
        monkeypatch.setenv("STEWARD_STORE", url)
        assert project.store_url == url
    monkeypatch.setenv("STEWARD_STORE", "sqlite+pysqlite:///here.db")
    assert project.store_url == f"sqlite+pysqlite:///{base.resolve() / 'here.db'}"
    monkeypatch.setenv("STEWARD_OBJECTS", "memory://x/y")
    assert project.objects_url == "memory://x/y"


def test_resolve_keeps_paths_inside_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not the project's")
    base = build_repo(
        tmp_path / "p",
        {
            "pyproject.toml": "",
            "data": {"a.csv": "x\n", "inner": Link("a.csv"), "escape": Link(str(outside))},
        },
        use_git=False,
    )
    project = Project.open(base)
    monkeypatch.chdir(base / "data")
    assert project.resolve("a.csv") == (base / "data" / "a.csv").resolve()
    assert project.resolve("inner") == (base / "data" / "a.csv").resolve()
    assert project.relative(project.resolve("a.csv")) == "data/a.csv"
    assert project.relative(project.root) == "."
    for bad in ("../../secret.txt", "escape", str(outside), "../" * 30 + "etc/passwd", "~"):
        with pytest.raises(PathError) as err:
            project.resolve(bad)
        assert err.value.code == "path-outside", bad
    with pytest.raises(PathError, match="path-missing"):
        project.resolve("nope.csv")
    assert project.resolve("new.csv", must_exist=False) == (base / "data" / "new.csv").resolve()


def test_a_project_built_from_an_unresolved_root_still_resolves(tmp_path: Path) -> None:
    real = build_repo(tmp_path / "real", {"f.txt": "x"}, use_git=False)
    (tmp_path / "alias").symlink_to(real)
    project = Project(root=tmp_path / "alias", settings=Project.open(real).settings)
    assert project.resolve(real / "f.txt") == (real / "f.txt").resolve()


def test_the_workspace_keeps_git_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsteward.store.database import dispose_all, open_store

    base = build_repo(tmp_path / "p", {"pyproject.toml": "[project]\nname='x'\n"}, use_git=True)
    monkeypatch.chdir(base)
    project = Project.open()
    store = open_store(project)
    with store.write() as conn:  # leaves a write-ahead log next to the database
        conn.exec_driver_sql("SELECT 1")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=base,
        capture_output=True,
        text=True,
        check=True,
    )
    dispose_all()
    assert status.stdout == ""
    assert (base / ".steward" / "steward.db").is_file()
    assert project.ensure_workspace() == base / ".steward"
    assert (base / ".steward" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_store_url_pointing_into_the_workspace_also_ignores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlsteward.store.database import dispose_all, open_store

    base = build_repo(tmp_path / "p", {"pyproject.toml": ""}, use_git=True)
    monkeypatch.chdir(base)
    monkeypatch.setenv("STEWARD_STORE", "sqlite:///.steward/records.db")  # relative, by hand
    open_store(Project.open())
    dispose_all()
    assert (base / ".steward" / ".gitignore").is_file()


def test_of_takes_a_project_or_a_path(tmp_path: Path) -> None:
    (tmp_path / "steward.toml").write_text("")
    (tmp_path / "sub").mkdir()
    project = Project.open(tmp_path)
    assert Project.of(project) is project
    assert Project.of(tmp_path / "sub").root == project.root
    assert Project.of(str(tmp_path)).root == project.root
