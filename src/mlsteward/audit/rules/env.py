"""ENV: declared dependencies and a reproducible environment.

A training run is reproducible only if the environment it ran in can be rebuilt: the
packages declared, their versions locked, the Python version stated, one tool owning the
environment, updates watched, and the system layer captured (a container, a conda
environment, nix). These rules read `facts.deps` (every manifest and lock file, never
installed or run) and give evidence for ML Test Score infra 1 ("training is
reproducible"), SE-ML 22 (versioning) and monitor 1 (dependency changes notify).
"""

from __future__ import annotations

import re
import sys
from pathlib import PurePosixPath

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.deps import LOCKING_MANAGERS, Manifest, Requirement, normalise
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.yamlfile import load_json, load_yaml
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

_MAX_HITS = 50

#: development tools that have no business in runtime dependencies (mllint's list, extended)
DEV_TOOLS = frozenset(
    {
        "pytest", "pytest-cov", "pytest-xdist", "pytest-mock", "pytest-benchmark",
        "pytest-asyncio", "coverage", "hypothesis", "tox", "nox", "black", "isort",
        "yapf", "autopep8", "flake8", "pylint", "pyflakes", "pycodestyle", "pydocstyle",
        "mccabe", "pylama", "prospector", "ruff", "mypy", "pyright", "pytype", "bandit",
        "safety", "pip-audit", "pre-commit", "mllint", "twine", "sphinx", "mkdocs",
        "mkdocs-material", "codespell", "interrogate", "vulture", "nbqa", "commitizen",
        "pip-tools", "ipdb", "pdbpp",
    }
)  # fmt: skip
_DEV_PREFIXES = ("pytest-", "flake8-", "types-", "sphinx-", "mkdocs-")

#: manifests whose runtime list is what `pip install` of the project brings in
_PACKAGE_KINDS = ("pep621", "poetry", "pipfile", "setup.py", "setup.cfg", "requirements", "pixi")

_LOCK_INSTALL = re.compile(
    r"\buv\s+sync\b|\buv\s+pip\s+sync\b|\bpoetry\s+install\b|\bpipenv\s+(install|sync)\b.*"
    r"(--deploy|--ignore-pipfile)|\bpipenv\s+sync\b|\bpdm\s+(sync|install)\b|\bpip-sync\b|"
    r"\bconda-lock\s+install\b|\bpixi\s+(install|run)\b|\bpip\s+install\b.*--require-hashes"
)
_UPDATE_JOB = re.compile(
    r"\bpip\s+list\s+--outdated\b|\buv\s+lock\s+--upgrade\b|\bpoetry\s+(update|show\s+--outdated)\b|"
    r"\bpip-compile\b.*--upgrade|\bpdm\s+(update|outdated)\b|\bpipenv\s+update\b"
)
_AUDIT_JOB = re.compile(
    r"\bpip-audit\b|gh-action-pip-audit|\bsafety\s+(check|scan)\b|\bosv-scanner\b"
)
_PYTHON_ECOSYSTEMS = frozenset({"pip", "uv", "pipenv", "poetry", "conda"})
_RENOVATE_FILES = (
    "renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".renovaterc.json5",
    ".github/renovate.json", ".github/renovate.json5", ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
)  # fmt: skip
_RENOVATE_PYTHON = re.compile(r"pip|pep621|pep735|poetry|pipenv|setup|conda|uv|pixi|hatch", re.I)

#: import name -> distribution name, for packages whose names differ (or are ML staples)
_IMPORT_TO_DIST = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml",
    "skimage": "scikit-image", "bs4": "beautifulsoup4", "dotenv": "python-dotenv",
    "torch": "torch", "torchvision": "torchvision", "torchaudio": "torchaudio",
    "tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "pandas": "pandas",
    "scipy": "scipy", "matplotlib": "matplotlib", "seaborn": "seaborn", "xgboost": "xgboost",
    "lightgbm": "lightgbm", "catboost": "catboost", "transformers": "transformers",
    "datasets": "datasets", "mlflow": "mlflow", "wandb": "wandb", "optuna": "optuna",
    "statsmodels": "statsmodels", "plotly": "plotly", "tqdm": "tqdm", "jax": "jax",
    "lightning": "lightning", "pytorch_lightning": "pytorch-lightning", "timm": "timm",
    "hydra": "hydra-core", "omegaconf": "omegaconf", "fastapi": "fastapi", "flask": "flask",
    "requests": "requests", "polars": "polars", "pyarrow": "pyarrow", "dvc": "dvc",
    "sentence_transformers": "sentence-transformers", "spacy": "spacy", "nltk": "nltk",
    "tiktoken": "tiktoken", "accelerate": "accelerate", "evidently": "evidently",
    "great_expectations": "great-expectations", "pandera": "pandera", "shap": "shap",
    "joblib": "joblib", "onnx": "onnx", "onnxruntime": "onnxruntime", "gensim": "gensim",
    "ultralytics": "ultralytics", "sentencepiece": "sentencepiece", "h5py": "h5py",
}  # fmt: skip
#: distributions that provide an import under another distribution's name
_PROVIDED_BY = {
    "torch": {"pytorch"},
    "tensorflow": {"tensorflow-gpu", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"},
    "keras": {"tensorflow", "tensorflow-gpu", "tensorflow-cpu", "tensorflow-macos"},
    "opencv-python": {"opencv-python-headless", "opencv-contrib-python", "opencv",
                      "opencv-contrib-python-headless", "py-opencv", "libopencv"},
    "pytorch-lightning": {"lightning"},
    "lightning": {"pytorch-lightning"},
    "onnxruntime": {"onnxruntime-gpu"},
    "mlflow": {"mlflow-skinny"},
    "jax": {"jaxlib", "jax-cuda12"},
    "numpy": {"pandas", "scipy", "scikit-learn", "torch", "tensorflow", "matplotlib"},
    "joblib": {"scikit-learn"},
    "pillow": {"torchvision", "matplotlib", "scikit-image"},
    "omegaconf": {"hydra-core"},
    "tqdm": {"transformers", "datasets", "ultralytics"},
    "requests": {"transformers", "datasets", "wandb", "mlflow"},
    "pyarrow": {"datasets", "mlflow"},
    "pyyaml": {"pyaml", "transformers", "datasets", "ultralytics", "mlflow", "hydra-core",
               "omegaconf"},
}  # fmt: skip


_TOP_IMPORT = re.compile(
    r"^(?:import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)"
    r"|from[ \t]+([\w][\w.]*)[ \t]+import\b)",
    re.M,
)


def _main_manifest(facts: Facts) -> str | None:
    """The file a repository-level dependency finding is anchored to."""
    manifests = sorted(facts.deps.manifests, key=lambda m: (m.path.count("/"), m.kind != "pep621"))
    if manifests:
        return manifests[0].path
    return facts.files.anchor(
        "pyproject.toml", "requirements.txt", "setup.py", "setup.cfg", "Pipfile",
        "environment.yml", "environment.yaml",
    )  # fmt: skip


def _describe(m: Manifest) -> str:
    parts = []
    if m.runtime:
        parts.append(f"{len(m.runtime)} runtime")
    if m.dev:
        parts.append(f"{len(m.dev)} dev")
    if m.extras:
        parts.append(f"{sum(len(v) for v in m.extras.values())} optional")
    counts = ", ".join(parts) or "computed at build time"
    return f"{m.path} ({m.kind}): {counts} requirements"


def _third_party(facts: Facts) -> set[str]:
    """Top-level packages the source imports that are neither standard library nor local."""
    local = _local_names(facts)
    names = {
        name.split(".")[0]
        for m in facts.python.source_modules
        for name in m.imports
        if not name.startswith(".")
    }
    return {
        n
        for n in names
        if n not in sys.stdlib_module_names and n not in local and n != "__future__"
    }


def _no_manifest(facts: Facts) -> Outcome:
    if not facts.python.modules:
        return Outcome.not_applicable("no Python code and no dependency manifest")
    return Outcome.unknown("no dependency manifest to judge (see ENV001)")


@rule(
    code="ENV001",
    name="dependencies-undeclared",
    title="Dependencies are declared in a manifest",
    severity="high",
    practices=("seml-22", "mts-infra-1"),
)
def dependencies_undeclared(facts: Facts) -> Outcome:
    """## What it finds
    Python code with no dependency manifest at all: no pyproject.toml dependencies,
    requirements file, Pipfile, conda environment, setup.py or setup.cfg.

    ## Why it matters
    Nobody, including CI and the future you, can rebuild the environment the model was
    trained in. Declaring the packages is the first step of a reproducible training run
    (ML Test Score infra 1) and of versioning everything the result depends on (SE-ML 22).

    ## Example
    A repository of notebooks whose README says "install torch and pandas".

    ## Instead
    ```toml
    # pyproject.toml
    [project]
    name = "churn-model"
    requires-python = ">=3.11"
    dependencies = ["pandas>=2.2,<3", "scikit-learn>=1.5,<1.6"]
    ```
    """
    deps = facts.deps
    if deps.declared:
        shown = [Evidence(_describe(m), Strength.PRESENT, m.path) for m in deps.manifests[:5]]
        return Outcome.passed(*shown, note=f"{len(deps.manifests)} manifests")
    imported = _third_party(facts)
    anchor = facts.files.anchor()
    if not imported or anchor is None:
        return Outcome.not_applicable("no Python code that imports third-party packages")
    names = ", ".join(sorted(imported)[:5]) + (" ..." if len(imported) > 5 else "")
    return Outcome.failed(
        Hit(
            f"no dependency manifest, yet the code imports {names}: declare them in "
            "pyproject.toml ([project] dependencies), requirements.txt or environment.yml",
            anchor,
        )
    )


@rule(
    code="ENV002",
    name="lock-file-missing",
    title="Dependency versions are locked",
    severity="medium",
    practices=("mts-infra-1", "seml-22"),
)
def lock_file_missing(facts: Facts) -> Outcome:
    """## What it finds
    Declared dependencies without a committed lock file (uv.lock, poetry.lock,
    Pipfile.lock, pdm.lock, pixi.lock, conda-lock, pylock.toml) or a fully pinned,
    generated requirements file (pip-compile, `uv pip compile`, `pip freeze`).

    ## Why it matters
    `pandas>=2` installs a different pandas next month: the same commit then trains a
    different model, or fails. A lock file records the exact version of every package,
    transitive ones included, so a training run can be repeated (ML Test Score infra 1,
    SE-ML 22). CI that installs from the lock proves the lock works.

    ## Example
    ```
    requirements.txt   # numpy, pandas>=2, torch
    ```

    ## Instead
    ```sh
    uv lock                     # or: poetry lock / pip-compile requirements.in
    git add uv.lock
    # CI: uv sync --locked
    ```
    """
    deps = facts.deps
    if not deps.declared and not deps.locks:
        return _no_manifest(facts)
    files = facts.files
    committed = _committed_locks(facts)
    untracked = [lock for lock in deps.locks if not files.is_tracked(lock)]
    if committed:
        evidence = [
            Evidence(f"{lock} ({deps.lock_managers.get(lock, 'lock')})", Strength.PRESENT, lock)
            for lock in committed[:4]
        ]
        ci = facts.ci.evidence_running(_LOCK_INSTALL, "installs from the lock")
        if ci is not None:
            evidence.append(ci)
        return Outcome.passed(*evidence)
    dev_only = [lock for lock in deps.locks if files.is_tracked(lock)]
    if dev_only:
        return Outcome.partial(
            0.5,
            Hit(
                "only development tools' requirements are pinned; lock the runtime "
                "dependencies too (`uv lock`, `pip-compile`)",
                _main_manifest(facts),
            ),
            evidence=[Evidence(f"{dev_only[0]} pinned", Strength.PRESENT, dev_only[0])],
        )
    if untracked:
        return Outcome.failed(
            *(Hit(f"{lock} is not committed: `git add {lock}`", lock) for lock in untracked)
        )
    return Outcome.failed(
        Hit(
            "no lock file: record exact versions with `uv lock`, `poetry lock`, or "
            "`pip-compile` / `uv pip compile` into a committed requirements file",
            _main_manifest(facts),
        )
    )


def _committed_locks(facts: Facts) -> list[str]:
    """Committed lock files that pin runtime dependencies (not a docs or CI tool list)."""
    deps = facts.deps
    dev_files = {m.path for m in deps.by_kind("requirements") if m.dev and not m.runtime}
    return [lock for lock in deps.locks if facts.files.is_tracked(lock) and lock not in dev_files]


def _weight(r: Requirement) -> float:
    return {"pinned": 1.0, "bounded": 1.0, "lower": 0.5, "url": 0.5}.get(r.constraint, 0.0)


@rule(
    code="ENV003",
    name="unpinned-dependencies",
    title="Runtime dependencies are pinned or bounded",
    severity="medium",
    practices=("mts-infra-1", "seml-22"),
)
def unpinned_dependencies(facts: Facts) -> Outcome:
    """## What it finds
    Runtime requirements with no version constraint (`torch`) or only a lower bound
    (`pandas>=1.0`), when no lock file pins them. The score is the share held: a pin or
    an upper bound counts fully, a lower bound half.

    ## Why it matters
    An unbounded dependency takes whatever is newest at install time: a new major
    release of pandas or scikit-learn silently changes results or breaks training (ML
    Test Score infra 1). A lock file pins everything; without one, bounds in the
    manifest are the only protection.

    ## Example
    ```
    # requirements.txt
    torch
    pandas>=1.0
    ```

    ## Instead
    ```
    torch==2.4.1
    pandas>=2.2,<3
    ```
    or keep ranges in pyproject.toml and commit a lock file (`uv lock`).
    """
    deps = facts.deps
    if not deps.declared:
        return _no_manifest(facts)
    locks = _committed_locks(facts)
    if locks:
        return Outcome.passed(
            Evidence(f"versions resolved in {locks[0]}", Strength.PRESENT, locks[0])
        )
    reqs = [r for r in deps.runtime() if r.constraint != "local"]
    if not reqs:
        return Outcome.not_applicable("no runtime requirements declared")
    score = sum(_weight(r) for r in reqs) / len(reqs)
    hits = []
    for r in reqs:
        if r.constraint == "none":
            hits.append(
                Hit(
                    f"{r.name or r.spec} has no version constraint: pin it or give it "
                    "an upper bound",
                    r.path,
                    r.line,
                    context=f"{r.path} {r.name}",
                )
            )
        elif r.constraint in ("lower", "url"):
            what = (
                f"only a lower bound ({r.spec}): add an upper bound or pin it"
                if r.constraint == "lower"
                else f"a branch, not a commit ({r.spec}): pin it to a commit or a release"
            )
            hits.append(
                Hit(
                    f"{r.name or r.spec} has {what}",
                    r.path,
                    r.line,
                    context=f"{r.path} {r.name}",
                )
            )
    held = sum(1 for r in reqs if r.bounded)
    evidence = (
        [
            Evidence(
                f"{held} of {len(reqs)} runtime requirements pinned or bounded",
                Strength.PRESENT,
                reqs[0].path,
            )
        ]
        if held
        else []
    )
    note = f"{len(hits) - _MAX_HITS} more not listed" if len(hits) > _MAX_HITS else ""
    return Outcome.partial(score, *hits[:_MAX_HITS], evidence=evidence, note=note)


def _dev_tool(name: str, own: set[str]) -> bool:
    if name not in DEV_TOOLS and not name.startswith(_DEV_PREFIXES):
        return False
    # a pytest plugin depends on pytest, a flake8 plugin on flake8: that is their runtime
    return not any(p == name or p.startswith(name + "-") or name in p.split("-") for p in own)


@rule(
    code="ENV004",
    name="dev-tools-in-runtime-deps",
    title="Development tools are kept out of runtime dependencies",
    severity="low",
    practices=("mts-infra-1",),
)
def dev_tools_in_runtime_deps(facts: Facts) -> Outcome:
    """## What it finds
    Test runners, linters, formatters, type checkers and documentation tools (pytest,
    black, ruff, mypy, sphinx, ...) listed among the runtime dependencies instead of a
    development group. (mllint's `dependency-management/use-dev`, extended.)

    ## Why it matters
    Every runtime dependency ships into the training image and the serving container:
    more to install, more to patch, more that can conflict. Keeping tools apart leaves
    the production environment small and reproducible (ML Test Score infra 1).

    ## Example
    ```
    # requirements.txt
    torch==2.4.1
    pytest==8.3.3
    black==24.8.0
    ```

    ## Instead
    ```toml
    [dependency-groups]
    dev = ["pytest>=8.3", "black>=24.8"]
    ```
    or a `requirements-dev.txt` that starts with `-r requirements.txt`.
    """
    deps = facts.deps
    # a resolver's output lists the whole environment it was asked for, tools included
    runtime = [r for m in deps.by_kind(*_PACKAGE_KINDS) if not m.generated for r in m.runtime]
    if not runtime:
        return Outcome.not_applicable("no runtime requirements declared")
    seen: set[tuple[str, str]] = set()
    hits = []
    # a tool the source code imports is a runtime dependency (a pylint plugin needs pylint)
    imported = {m.split(".")[0] for s in facts.python.source_modules for m in s.imports}
    for r in runtime:
        if r.name.replace("-", "_") in imported:
            continue
        if _dev_tool(r.name, deps.project_names) and (r.path, r.name) not in seen:
            seen.add((r.path, r.name))
            hits.append(
                Hit(
                    f"{r.name} is a development tool listed as a runtime dependency in "
                    f"{r.path}: move it to a dev group or requirements-dev.txt",
                    r.path,
                    r.line,
                    context=f"{r.path} {r.name}",
                )
            )
    dev = [m for m in deps.manifests if m.dev]
    evidence = (
        [
            Evidence(
                f"development requirements kept apart in {dev[0].path} ({dev[0].kind})",
                Strength.PRESENT,
                dev[0].path,
            )
        ]
        if dev
        else []
    )
    return Outcome.from_hits(
        hits, evidence=evidence, note=f"{len(runtime)} runtime requirements checked"
    )


_ENV_NAMES = {
    "devcontainer.json": "dev container",
    ".devcontainer.json": "dev container",
    "flake.nix": "nix",
    "shell.nix": "nix",
    "default.nix": "nix",
    "devbox.json": "nix",
    "pixi.toml": "pixi",
    "pixi.lock": "pixi",
    "singularity": "Apptainer",
    "apptainer.def": "Apptainer",
    "singularity.def": "Apptainer",
}


def _dockerfiles(facts: Facts) -> list[str]:
    """Dockerfile, Dockerfile.gpu, serve.dockerfile, Containerfile (only their names)."""
    out = []
    for rel in facts.files.files:
        name = rel.rsplit("/", 1)[-1].lower()
        if name.startswith("dockerfile") or name.endswith(".dockerfile") or name == "containerfile":
            out.append(rel)
    return out


def _dockerfile_python(facts: Facts) -> Evidence | None:
    """A ``FROM python:3.x`` base image: the only line of a Dockerfile this rule reads."""
    for rel in _dockerfiles(facts):
        text = facts.files.read_text(rel) or ""
        m = re.search(r"^\s*FROM\s+(?:\S+/)?python:(\d+\.\d+)", text, re.M | re.I)
        if m:
            line = text[: m.start()].count("\n") + 1
            return Evidence(f"base image python:{m.group(1)}", Strength.PRESENT, rel, line)
    return None


@rule(
    code="ENV005",
    name="python-version-undeclared",
    title="The Python version is declared",
    severity="low",
    practices=("mts-infra-1", "seml-22"),
)
def python_version_undeclared(facts: Facts) -> Outcome:
    """## What it finds
    A project that does not say which Python it runs on: no `requires-python`, Poetry
    `python`, `python_requires`, `.python-version`, `runtime.txt`, `.tool-versions`,
    conda `python=`, Pipfile `python_version`, or `FROM python:3.x` base image.

    ## Why it matters
    Package versions, pickled models and numerical results differ between Python
    versions; a rebuilt environment on another Python is not the same environment (ML
    Test Score infra 1).

    ## Example
    A `requirements.txt` and nothing else.

    ## Instead
    ```toml
    [project]
    requires-python = ">=3.11,<3.13"
    ```
    and `echo 3.12 > .python-version` for the version used in development.
    """
    deps = facts.deps
    evidence = [
        Evidence(
            f"Python {d.spec} ({PurePosixPath(d.path).name})", Strength.PRESENT, d.path, d.line
        )
        for d in deps.python_decls[:3]
    ]
    docker = _dockerfile_python(facts)
    if docker is not None:
        evidence.append(docker)
    if evidence:
        return Outcome.passed(*evidence)
    if not deps.declared and not _third_party(facts):
        return Outcome.not_applicable("no Python code and no dependency manifest")
    return Outcome.failed(
        Hit(
            "the Python version is not declared: set requires-python in pyproject.toml "
            "(or python_requires, .python-version, conda `python=3.x`)",
            _main_manifest(facts),
        )
    )


def _manager_files(facts: Facts) -> dict[str, list[str]]:
    deps = facts.deps
    out: dict[str, list[str]] = {}
    kind_manager = {
        "poetry": "poetry",
        "pdm": "pdm",
        "uv": "uv",
        "pipfile": "pipenv",
        "pixi": "pixi",
    }
    for m in deps.manifests:
        manager = kind_manager.get(m.kind)
        if manager:
            out.setdefault(manager, []).append(m.path)
    for lock, manager in deps.lock_managers.items():
        if manager in LOCKING_MANAGERS:
            out.setdefault(manager, []).append(lock)
    for manager in deps.managers & LOCKING_MANAGERS:
        out.setdefault(manager, [])
    return out


@rule(
    code="ENV006",
    name="conflicting-dependency-managers",
    title="One tool manages the environment",
    severity="low",
    practices=("mts-infra-1",),
)
def conflicting_dependency_managers(facts: Facts) -> Outcome:
    """## What it finds
    More than one environment manager that resolves and locks dependencies on its own:
    Poetry, Pipenv, PDM, uv, pixi (say, a Pipfile and `[tool.poetry]` both declaring
    dependencies, or poetry.lock beside uv.lock).

    ## Why it matters
    Two managers mean two sources of truth that drift apart: one developer installs from
    the Pipfile, CI from poetry.lock, and the environments differ (ML Test Score infra 1).
    Requirements files exported from the one manager are fine.

    ## Example
    ```
    Pipfile  Pipfile.lock  pyproject.toml ([tool.poetry.dependencies])  poetry.lock
    ```

    ## Instead
    Pick one; migrate the other's dependencies into it and delete its files.
    """
    deps = facts.deps
    if not deps.declared and not deps.locks:
        return _no_manifest(facts)
    managers = _manager_files(facts)
    if len(managers) <= 1:
        used = ", ".join(sorted(deps.managers)) or "pip from the [project] table"
        where = next((p for ps in managers.values() for p in ps), None) or _main_manifest(facts)
        return Outcome.passed(Evidence(f"environment managed by {used}", Strength.PRESENT, where))
    names = sorted(managers)
    hits = []
    for manager in names:
        paths = managers[manager]
        others = ", ".join(n for n in names if n != manager)
        where = f" ({', '.join(paths)})" if paths else ""
        hits.append(
            Hit(
                f"{manager} manages dependencies here{where} besides {others}: keep one manager",
                paths[0] if paths else _main_manifest(facts),
            )
        )
    return Outcome.failed(*hits, note=f"managers: {', '.join(names)}")


def _dependabot(facts: Facts) -> tuple[Evidence | None, Hit | None]:
    rel = next(
        (f for f in (".github/dependabot.yml", ".github/dependabot.yaml") if facts.files.exists(f)),
        None,
    )
    if rel is None:
        return None, None
    data = load_yaml(facts, rel, facts.files.read_text(rel) or "")
    updates = data.get("updates") if isinstance(data, dict) else None
    ecosystems = {str(u.get("package-ecosystem")) for u in updates or [] if isinstance(u, dict)}
    if ecosystems & _PYTHON_ECOSYSTEMS:
        return Evidence(
            f"dependabot watches {', '.join(sorted(ecosystems & _PYTHON_ECOSYSTEMS))}",
            Strength.AUTOMATED,
            rel,
        ), None
    shown = ", ".join(sorted(ecosystems)) or "nothing"
    return Evidence(f"dependabot watches {shown}", Strength.PRESENT, rel), Hit(
        f"dependabot watches {shown} but not the Python dependencies: add an update for "
        'package-ecosystem "pip" (or "uv")',
        rel,
    )


def _renovate(facts: Facts) -> tuple[Evidence | None, Hit | None]:
    rel = next((f for f in _RENOVATE_FILES if facts.files.exists(f)), None)
    if rel is None:
        return None, None
    text = facts.files.read_text(rel) or ""
    data = load_json(facts, rel, text) if rel.endswith((".json", "renovaterc")) else None
    enabled = data.get("enabledManagers") if isinstance(data, dict) else None
    if isinstance(enabled, list) and not any(_RENOVATE_PYTHON.search(str(e)) for e in enabled):
        return Evidence(
            f"renovate enabled for {', '.join(map(str, enabled))}", Strength.PRESENT, rel
        ), Hit(
            "renovate's enabledManagers leave out the Python managers (pep621, pip_requirements, "
            "poetry, ...)",
            rel,
        )
    return Evidence("renovate configured", Strength.AUTOMATED, rel), None


@rule(
    code="ENV007",
    name="dependency-updates-unwatched",
    title="Dependency updates raise notifications",
    severity="low",
    practices=("mts-monitor-1", "seml-27"),
)
def dependency_updates_unwatched(facts: Facts) -> Outcome:
    """## What it finds
    Declared dependencies that nothing watches: no Dependabot or Renovate configuration
    covering the Python packages, no pyup, no scheduled CI job that checks for outdated
    or vulnerable packages.

    ## Why it matters
    A new release of a dependency can change a model's behaviour, and a vulnerable one
    must be replaced: the ML Test Score (monitor 1) asks that upstream changes notify
    the team, and SE-ML 27 asks for dependency scanning.

    ## Example
    A `requirements.txt` pinned two years ago, untouched since.

    ## Instead
    ```yaml
    # .github/dependabot.yml
    version: 2
    updates:
      - package-ecosystem: "pip"
        directory: "/"
        schedule: {interval: "weekly"}
    ```
    """
    deps = facts.deps
    if not deps.declared and not deps.locks:
        return _no_manifest(facts)
    evidence: list[Evidence] = []
    hits: list[Hit] = []
    for found in (_dependabot(facts), _renovate(facts)):
        if found[0] is not None:
            evidence.append(found[0])
        if found[1] is not None:
            hits.append(found[1])
    pyup = facts.files.find(".pyup.yml")
    if pyup is not None:
        evidence.append(Evidence("pyup configured", Strength.AUTOMATED, pyup))
    update = facts.ci.evidence_running(_UPDATE_JOB, "checks for dependency updates")
    if update is not None:
        evidence.append(update)
    watched = [e for e in evidence if e.strength >= Strength.AUTOMATED]
    audit = facts.ci.evidence_running(_AUDIT_JOB, "scans dependencies for vulnerabilities")
    if audit is not None:
        evidence.append(audit)
    if watched:
        return Outcome.passed(*evidence)
    anchor = _main_manifest(facts)
    if audit is not None:
        return Outcome.partial(
            0.5,
            Hit(
                "only vulnerability scans watch the dependencies; add Dependabot or Renovate "
                "for new releases",
                anchor,
            ),
            *hits,
            evidence=evidence,
        )
    if hits:
        return Outcome.failed(*hits, evidence=evidence)
    return Outcome.failed(
        Hit(
            "no Dependabot or Renovate configuration: add .github/dependabot.yml with "
            'package-ecosystem "pip"',
            anchor,
        )
    )


@rule(
    code="ENV008",
    name="environment-not-captured",
    title="The runtime environment is captured",
    severity="medium",
    practices=("mts-infra-1", "seml-16"),
)
def environment_not_captured(facts: Facts) -> Outcome:
    """## What it finds
    No definition of the whole environment beyond Python packages: no Dockerfile or
    Containerfile, dev container, conda environment, nix flake or shell, pixi project,
    Binder or Gitpod configuration.

    ## Why it matters
    CUDA, system libraries and the Python interpreter matter as much as the packages:
    a container or conda environment lets anyone, and CI, rebuild the same environment
    (ML Test Score infra 1) and run experiments side by side in isolation (SE-ML 16).

    ## Example
    A README that says "tested on Ubuntu 20.04 with CUDA 11.3".

    ## Instead
    ```dockerfile
    FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
    COPY uv.lock pyproject.toml ./
    RUN pip install uv && uv sync --locked
    ```
    """
    kinds: dict[str, list[str]] = {
        "container": _dockerfiles(facts),
        "conda environment": [m.path for m in facts.deps.by_kind("conda")],
    }
    # one pass over the index: globbing each pattern would walk it ten times
    for rel in facts.files.files:
        name = rel.rsplit("/", 1)[-1].lower()
        kind = _ENV_NAMES.get(name)
        if kind is None and (rel.startswith(("binder/", ".binder/")) or rel == ".gitpod.yml"):
            kind = "Binder/Gitpod"
        if kind == "dev container" and not (
            rel == ".devcontainer.json" or rel.startswith(".devcontainer/")
        ):
            kind = None
        if kind is not None:
            kinds.setdefault(kind, []).append(rel)
    evidence = [
        Evidence(
            f"{kind}: {paths[0]}" + (f" (+{len(paths) - 1})" if len(paths) > 1 else ""),
            Strength.PRESENT,
            paths[0],
        )
        for kind, paths in kinds.items()
        if paths
    ]
    if evidence:
        ci = facts.ci.evidence("docker")
        if ci is not None:
            evidence.append(ci)
        return Outcome.passed(*evidence)
    if not facts.deps.declared and not _third_party(facts):
        return Outcome.not_applicable("no Python code and no dependency manifest")
    return Outcome.failed(
        Hit(
            "the environment is not captured: add a Dockerfile, a dev container or a conda "
            "environment.yml that pins the interpreter and system libraries",
            _main_manifest(facts),
        )
    )


def _local_names(facts: Facts) -> set[str]:
    """Top-level names that resolve inside the repository (packages, modules, script dirs)."""
    out: set[str] = set()
    for f in facts.files.files:
        parts = PurePosixPath(f).parts
        for i, part in enumerate(parts):
            name = part.removesuffix(".py") if i == len(parts) - 1 else part
            out.add(name)
    return out


@rule(
    code="ENV009",
    name="imports-undeclared",
    title="Imported packages are declared as dependencies",
    severity="medium",
    practices=("mts-infra-1", "seml-22"),
)
def imports_undeclared(facts: Facts) -> Outcome:
    """## What it finds
    Well-known third-party packages (numpy, pandas, torch, scikit-learn, ...) that the
    source code or notebooks import but that no manifest declares, in a project that
    does declare its dependencies. Only unconditional module-level imports count (one
    inside a function or a `try` block is an optional feature), only packages whose
    distribution name is known for sure are checked, and a package that a declared one
    brings with it (numpy with pandas) is accepted.

    ## Why it matters
    An import that works only because the package happens to be installed on one
    machine breaks the rebuilt environment: the training run is not reproducible (ML
    Test Score infra 1).

    ## Example
    ```python
    import lightgbm as lgb   # requirements.txt lists pandas and scikit-learn only
    ```

    ## Instead
    Add it to the manifest: `lightgbm>=4.5,<5` (and re-lock).
    """
    deps = facts.deps
    if not deps.declared:
        return _no_manifest(facts)
    if any(m.dynamic for m in deps.manifests):
        return Outcome.unknown("dependencies are computed when building (setup.py or dynamic)")
    declared = {r.name for m in deps.manifests for r in m.requirements}
    local = _local_names(facts)
    stdlib = sys.stdlib_module_names
    hits: dict[str, Hit] = {}
    modules = facts.python.source_modules
    for m in modules:
        for imp, line in _top_imports(m):
            dist = _IMPORT_TO_DIST.get(imp)
            if dist is None or imp in stdlib or imp in local or dist in hits:
                continue
            if (
                dist in declared
                or normalise(imp) in declared
                or _PROVIDED_BY.get(dist, set()) & declared
            ):
                continue
            hits[dist] = Hit(
                f"{m.path} imports {imp} but no manifest declares {dist}: add it",
                m.path,
                line,
                context=f"{m.path} {imp}",
            )
    return Outcome.from_hits(
        list(hits.values()),
        evidence=[
            Evidence(
                f"{len(declared)} declared packages cover the known third-party imports",
                Strength.PRESENT,
                deps.manifests[0].path,
            )
        ],
        note=f"{len(modules)} modules checked against {len(deps.manifests)} manifests",
    )


def _top_imports(module: Module) -> list[tuple[str, int]]:
    """(top-level package, line) of the imports a module cannot run without.

    Only unconditional module-level imports count: an import inside a function or a
    ``try`` block is an optional feature (``onnxruntime`` for one export format).
    """
    out: list[tuple[str, int]] = []
    # read from the text: an import at column 0 is at module level and unconditional
    for match in _TOP_IMPORT.finditer(module.source):
        line = module.source.count("\n", 0, match.start()) + 1
        if match.group(2):
            out.append((match.group(2).split(".")[0], line))
        else:
            for part in match.group(1).split(","):
                name = part.strip().split(" ")[0].split(".")[0]
                if name:
                    out.append((name, line))
    return out
