"""Dependency facts: every manifest kind read (never run), requirements classified, locks found."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.deps import DepsFacts, is_dev_group, normalise, parse_requirement
from repo_builder import build_repo


def _deps(tmp_path: Path, files: dict[str, object]) -> DepsFacts:
    return Facts(build_repo(tmp_path, files)).deps  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "name", "constraint", "pinned"),
    [
        ("numpy", "numpy", "none", False),
        ("NumPy>=1.26", "numpy", "lower", False),
        ("numpy>=1.26,<3", "numpy", "bounded", False),
        ("scikit_learn~=1.5.0", "scikit-learn", "bounded", False),
        ("pandas==2.2.3", "pandas", "pinned", True),
        ("pandas==2.*", "pandas", "bounded", False),
        ("torch===2.4.1+cu121", "torch", "pinned", True),
        ("requests[socks] (>=2.31)", "requests", "lower", False),
        ('tomli>=2 ; python_version < "3.11"', "tomli", "lower", False),
        ("mylib @ git+https://github.com/o/mylib@3f2a9c1", "mylib", "pinned", True),
        ("mylib @ git+https://github.com/o/mylib@main", "mylib", "url", False),
        ("git+https://github.com/o/nasbench", "nasbench", "url", False),
        ("git+https://github.com/o/x.git#egg=Thing", "thing", "url", False),
        ("https://example.com/pkg-1.0-py3-none-any.whl", "pkg", "pinned", True),
        (".", "", "local", False),
        ("./libs/core", "", "local", False),
    ],
)
def test_parse_requirement(text: str, name: str, constraint: str, pinned: bool) -> None:
    req = parse_requirement(text, "requirements.txt", 3)
    assert req is not None
    assert (req.name, req.constraint, req.pinned) == (name, constraint, pinned)
    assert (req.path, req.line) == ("requirements.txt", 3)


def test_not_a_requirement() -> None:
    assert parse_requirement("this is prose", "r.txt") is None
    assert parse_requirement("", "r.txt") is None


def test_marker_and_hash() -> None:
    req = parse_requirement('tomli>=2 ; python_version < "3.11"', "r.txt")
    assert req is not None
    assert req.marker == 'python_version < "3.11"'
    hashed = parse_requirement("numpy", "r.txt", hashed=True)
    assert hashed is not None
    assert hashed.pinned


def test_names_and_groups() -> None:
    assert normalise("Scikit_Learn.Extra") == "scikit-learn-extra"
    assert all(
        is_dev_group(g) for g in ("dev", "test", "tests", "docs", "lint", "typing", "dev-gpu")
    )
    assert not any(is_dev_group(g) for g in ("gpu", "serve", "all", "aws", "devops"))


def test_pyproject_tables(tmp_path: Path) -> None:
    pyproject = """
[project]
name = "Churn_Model"
requires-python = ">=3.11"
dependencies = [
  "numpy>=1.26,<3",
  "pandas==2.2.3",
]

[project.optional-dependencies]
gpu = ["torch>=2.4"]
test = ["pytest>=8"]

[dependency-groups]
dev = ["ruff>=0.6", {include-group = "docs"}]
docs = ["mkdocs"]

[tool.pdm.dev-dependencies]
lint = ["black"]

[tool.hatch.envs.default]
dependencies = ["coverage"]

[tool.uv]
dev-dependencies = ["mypy"]
"""
    deps = _deps(tmp_path, {"pyproject.toml": pyproject})
    by_kind = {m.kind: m for m in deps.manifests}
    assert set(by_kind) == {"pep621", "pep735", "pdm", "hatch", "uv"}
    pep621 = by_kind["pep621"]
    assert [(r.name, r.line) for r in pep621.runtime] == [("numpy", 6), ("pandas", 7)]
    assert [r.name for r in pep621.dev] == ["pytest"]
    assert list(pep621.extras) == ["gpu"]
    assert [r.name for r in by_kind["pep735"].dev] == ["ruff", "mkdocs"]
    assert [r.name for r in by_kind["pdm"].dev] == ["black"]
    assert [r.name for r in by_kind["hatch"].dev] == ["coverage"]
    assert [r.name for r in by_kind["uv"].dev] == ["mypy"]
    assert deps.python_requires == ">=3.11"
    assert deps.python_decls[0].line == 4
    assert "churn-model" in deps.project_names
    assert {"pdm", "hatch", "uv"} <= deps.managers


def test_poetry(tmp_path: Path) -> None:
    pyproject = """
[tool.poetry]
name = "x"

[tool.poetry.dependencies]
python = "^3.11"
numpy = "^1.26"
pandas = "2.2.3"
torch = {version = ">=2.4", source = "pytorch"}
mylib = {git = "https://github.com/o/mylib.git", rev = "3f2a9c1d"}
local = {path = "../local", develop = true}
anything = "*"

[tool.poetry.dev-dependencies]
pytest = "^8"

[tool.poetry.group.lint.dependencies]
ruff = "*"
"""
    deps = _deps(tmp_path, {"pyproject.toml": pyproject})
    (m,) = deps.manifests
    assert m.kind == "poetry"
    got = {r.name: r.constraint for r in m.runtime}
    assert got == {
        "numpy": "bounded",
        "pandas": "pinned",
        "torch": "lower",
        "mylib": "pinned",
        "local": "local",
        "anything": "none",
    }
    assert {r.name for r in m.dev} == {"pytest", "ruff"}
    assert next(r for r in m.runtime if r.name == "numpy").line == 7
    assert deps.python_requires == "^3.11"
    assert "poetry" in deps.managers


def test_requirements_includes_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (tmp_path / "outside.txt").write_text("evil==1.0\n")
    files = {
        "requirements": {
            "base.txt": "numpy==1.26.4 \\\n    --hash=sha256:abc\npandas>=2  # comment\n",
            "dev.txt": "-r base.txt\n-r ../../outside.txt\n-c constraints.txt\npytest\n",
        },
        "requirements.txt": (
            "--index-url https://pypi.org/simple\n-r requirements/base.txt\n"
            "-e git+https://github.com/o/tool.git@v1#egg=tool\n-e .\n"
        ),
    }
    deps = Facts(build_repo(root, files)).deps
    by_path = {m.path: m for m in deps.manifests}
    base = by_path["requirements/base.txt"]
    assert [(r.name, r.line, r.pinned) for r in base.runtime] == [
        ("numpy", 1, True),
        ("pandas", 3, False),
    ]
    dev = by_path["requirements/dev.txt"]
    assert dev.dev
    assert not dev.runtime
    assert [r.name for r in dev.dev] == ["numpy", "pandas", "pytest"]
    assert "evil" not in {r.name for m in deps.manifests for r in m.requirements}
    top = by_path["requirements.txt"]
    assert top.includes == ["requirements/base.txt"]
    assert [r.name for r in top.runtime] == ["numpy", "pandas", "tool", ""]
    assert [r.path for r in top.runtime][:2] == ["requirements/base.txt"] * 2


def test_generated_and_pinned_requirements_are_locks(tmp_path: Path) -> None:
    files = {
        "requirements.in": "numpy\n",
        "requirements.txt": "# This file was autogenerated by uv via the following command:\n"
        "#    uv pip compile requirements.in\nnumpy==1.26.4\n",
        "docker": {"requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n"},
        "loose": {"requirements.txt": "flask==3.0.3\ngunicorn\n"},
    }
    deps = _deps(tmp_path, files)
    assert deps.lock_managers == {
        "docker/requirements.txt": "pinned requirements",
        "requirements.txt": "pip-compile",
    }
    assert next(m for m in deps.manifests if m.path == "requirements.txt").generated


def test_lock_files(tmp_path: Path) -> None:
    files = {
        "uv.lock": "version = 1\n",
        "poetry.lock": "",
        "Pipfile.lock": "{}",
        "pdm.lock": "",
        "pixi.lock": "",
        "conda-lock.yml": "",
        "pylock.toml": "",
        "envs": {"spec-file.txt": "# platform: linux-64\n@EXPLICIT\nhttps://x/numpy.conda\n"},
        "tests": {"fixtures": {"uv.lock": ""}},
    }
    deps = _deps(tmp_path, files)
    assert deps.lock_managers == {
        "Pipfile.lock": "pipenv",
        "conda-lock.yml": "conda-lock",
        "envs/spec-file.txt": "conda",
        "pdm.lock": "pdm",
        "pixi.lock": "pixi",
        "poetry.lock": "poetry",
        "pylock.toml": "pylock",
        "uv.lock": "uv",
    }
    assert {"uv", "poetry", "pipenv", "pdm", "pixi"} <= deps.managers


def test_pipfile_and_conda(tmp_path: Path) -> None:
    files = {
        "Pipfile": '[packages]\nnumpy = "*"\nflask = "==3.0.3"\n\n[dev-packages]\npytest = "*"\n\n'
        '[requires]\npython_version = "3.11"\n',
        "environment.yml": (
            "name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n"
            "  - conda-forge::numpy=1.26.4=py310h_0\n  - pandas=2.2\n  - scipy\n  - pip\n"
            "  - pip:\n    - torch==2.4.1\n    - -r requirements-extra.txt\n"
        ),
        "requirements-extra.txt": "rich>=13\n",
    }
    deps = _deps(tmp_path, files)
    pipfile = next(m for m in deps.manifests if m.kind == "pipfile")
    assert {r.name: r.constraint for r in pipfile.runtime} == {"numpy": "none", "flask": "pinned"}
    assert [r.name for r in pipfile.dev] == ["pytest"]
    conda = next(m for m in deps.manifests if m.kind == "conda")
    assert {r.name: r.constraint for r in conda.runtime} == {
        "numpy": "pinned",
        "pandas": "bounded",
        "scipy": "none",
        "torch": "pinned",
        "rich": "lower",
    }
    assert conda.includes == ["requirements-extra.txt"]
    assert {d.spec for d in deps.python_decls} == {"3.11", "=3.10"}
    assert {"pipenv", "conda"} <= deps.managers


def test_setup_py_is_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    setup = f"""
import pathlib
pathlib.Path({str(marker)!r}).write_text("executed")
from setuptools import setup

REQUIRED = ["numpy>=1.26", "pandas"]

setup(
    name="churn",
    python_requires=">=3.10",
    install_requires=REQUIRED + ["scikit-learn~=1.5"],
    extras_require={{"gpu": ["torch"], "test": ["pytest"]}},
)
"""
    deps = _deps(tmp_path / "repo", {"setup.py": setup})
    assert not marker.exists()
    (m,) = deps.manifests
    assert [r.name for r in m.runtime] == ["numpy", "pandas", "scikit-learn"]
    assert m.runtime[0].line == 6
    assert list(m.extras) == ["gpu"]
    assert [r.name for r in m.dev] == ["pytest"]
    assert not m.dynamic
    assert deps.python_requires == ">=3.10"


def test_setup_py_computed_requirements_are_dynamic(tmp_path: Path) -> None:
    setup = "from setuptools import setup\nsetup(install_requires=open('r.txt').read().split())\n"
    (m,) = _deps(tmp_path, {"setup.py": setup}).manifests
    assert m.dynamic
    assert not m.runtime


def test_setup_cfg(tmp_path: Path) -> None:
    cfg = (
        "[metadata]\nname = churn\n\n[options]\npython_requires = >=3.10\n"
        "install_requires =\n    numpy>=1.26\n    tomli; python_version<'3.11'\n\n"
        "[options.extras_require]\ndocs = sphinx\n"
    )
    deps = _deps(tmp_path, {"setup.cfg": cfg})
    (m,) = deps.manifests
    assert [(r.name, r.line) for r in m.runtime] == [("numpy", 7), ("tomli", 8)]
    assert [r.name for r in m.dev] == ["sphinx"]
    assert deps.python_requires == ">=3.10"


def test_python_version_files(tmp_path: Path) -> None:
    files = {".python-version": "3.12.4\n", "runtime.txt": "python-3.11.9\n"}
    deps = _deps(tmp_path, files)
    assert {(d.path, d.spec) for d in deps.python_decls} == {
        (".python-version", "3.12.4"),
        ("runtime.txt", "3.11.9"),
    }


def test_broken_files_are_problems_not_crashes(tmp_path: Path) -> None:
    facts = Facts(
        build_repo(
            tmp_path,
            {
                "pyproject.toml": "[project\n",
                "environment.yml": "dependencies: [\n",
                "setup.py": "def (:\n",
                "setup.cfg": "no section header\n",
            },
        )
    )
    assert facts.deps.manifests == []
    assert {p.path for p in facts.problems if p.kind == "config"} >= {
        "pyproject.toml",
        "environment.yml",
        "setup.cfg",
    }


def test_test_fixtures_are_not_manifests(tmp_path: Path) -> None:
    deps = _deps(tmp_path, {"tests": {"data": {"requirements.txt": "numpy\n"}}})
    assert deps.manifests == []
    assert not deps.declared
