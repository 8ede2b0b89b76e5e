"""CQ: code quality tooling is set up, and notebook code does not stay trapped in notebooks.

A tool counts as configured wherever the project says how to run it (`facts.tools`): its
own config file or a section of pyproject.toml, setup.cfg or tox.ini, a pre-commit hook,
a Makefile/tox/nox task, or a CI step. Being only a listed dependency gives half credit.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.tools import FORMATTERS, LINTERS, TYPECHECKERS, Hook, ToolUse
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

__all__: list[str] = []


def _tool_outcome(facts: Facts, tools: tuple[str, ...], kind: str, what: str, fix: str) -> Outcome:
    """Passed when a tool is configured (plus CI evidence), half when only declared."""
    use = facts.tools.use(*tools)
    if use is not None:
        evidence = [use.evidence()]
        run = facts.tools.ci(kind)
        if run is not None and run.strength >= Strength.AUTOMATED and use.via != "ci":
            evidence.append(run.evidence())
        elif use.via == "ci" and run is not None:
            evidence = [run.evidence()]
        return Outcome.passed(*evidence)
    declared = facts.tools.use(*tools, declared=True)
    if declared is not None:
        return Outcome.partial(
            0.5,
            Hit(
                f"{declared.tool} is a dependency in {declared.path} but nothing configures or "
                f"runs it: {fix}",
                declared.path,
                declared.line,
            ),
            evidence=[declared.evidence(Strength.DECLARED)],
        )
    return Outcome.failed(
        Hit(
            f"no {what} configured: {fix}",
            facts.files.anchor("pyproject.toml", "setup.cfg", "README*"),
            1,
        )
    )


def _python_modules(facts: Facts) -> bool:
    return any(not m.is_notebook for m in facts.python.source_modules)


@rule(
    code="CQ001",
    name="no-linter",
    title="A linter is configured",
    severity="medium",
    practices=("seml-26",),
)
def no_linter(facts: Facts) -> Outcome:
    """## What it finds
    Python projects where no linter is set up: no ruff, flake8, pylint, pycodestyle or
    prospector configuration, pre-commit hook, task or CI step. A linter that is only a
    listed dev dependency gives half the score.

    ## Why it matters
    SE-ML "Use Static Analysis to Check Code Quality" (seml-26): linters find unused
    variables, shadowed names and undefined names, the bugs that hide in long training
    scripts, without running them.

    ## Example
    A repository with `train.py`, `model.py` and `requirements.txt`, and no lint config.

    ## Instead
    ```toml
    [tool.ruff.lint]
    select = ["E", "F", "B", "I", "UP", "S"]
    ```
    and run `ruff check .` in CI or as a pre-commit hook.
    """
    if not facts.python.modules:
        return Outcome.not_applicable("no Python code or notebooks")
    return _tool_outcome(
        facts,
        LINTERS,
        "lint",
        "linter",
        "configure ruff (`[tool.ruff]` in pyproject.toml) and run it in CI",
    )


@rule(
    code="CQ002",
    name="no-type-checker",
    title="A type checker is configured",
    severity="low",
    practices=("seml-26",),
)
def no_type_checker(facts: Facts) -> Outcome:
    """## What it finds
    Python projects where no type checker is set up: no mypy, pyright, pytype or pyre
    configuration, hook, task or CI step. Not applicable when the only code is notebooks.
    The evidence says when strict mode is on.

    ## Why it matters
    Static analysis (seml-26) that understands types catches a DataFrame passed where an
    array was expected, or a config value that may be None, before a training run does.

    ## Example
    `src/` with annotated functions and no `[tool.mypy]`, `mypy.ini` or pyright config.

    ## Instead
    ```toml
    [tool.mypy]
    files = ["src"]
    strict = true
    ```
    """
    if not _python_modules(facts):
        return Outcome.not_applicable("no Python modules outside notebooks")
    outcome = _tool_outcome(
        facts,
        TYPECHECKERS,
        "typecheck",
        "type checker",
        "configure mypy (`[tool.mypy]` in pyproject.toml) and run it in CI",
    )
    strict = facts.tools.strict_typing
    if strict and outcome.evidence:
        extra = Evidence(f"strict type checking in {strict}", Strength.PRESENT, strict, None)
        return Outcome(
            outcome.status, outcome.score, (*outcome.evidence, extra), outcome.hits, outcome.note
        )
    return outcome


@rule(
    code="CQ003",
    name="precommit-unpinned",
    title="Pre-commit hooks are configured at pinned revisions",
    severity="low",
    practices=("seml-26",),
)
def precommit_unpinned(facts: Facts) -> Outcome:
    """## What it finds
    Repositories without a `.pre-commit-config.yaml`, with one that defines no hooks, or
    whose remote hooks point at a moving branch (`rev: main`, `rev: master`, `rev:
    stable`) or at no revision, instead of a tag or commit. The score is the share of
    remote hook repositories that are pinned.

    ## Why it matters
    Pre-commit hooks run the static analysis (seml-26) before a change is even committed.
    A hook that follows a branch changes under everyone's feet: the same commit passes
    today and fails tomorrow.

    ## Example
    ```yaml
    repos:
      - repo: https://github.com/psf/black
        rev: stable
        hooks: [{id: black}]
    ```

    ## Instead
    Pin every hook to a release (`rev: 24.10.0`) and update them with
    `pre-commit autoupdate`.
    """
    tools = facts.tools
    path = tools.precommit_path
    if path is None:
        if not facts.python.modules:
            return Outcome.not_applicable("no Python code or notebooks")
        return Outcome.failed(
            Hit(
                "no .pre-commit-config.yaml: add one with ruff (and mypy) hooks so checks run "
                "before each commit",
                facts.files.anchor("pyproject.toml", "README*"),
                1,
            )
        )
    if not tools.hooks:
        return Outcome.failed(Hit(f"{path} defines no hooks", path, 1))
    repos: dict[str, list[int | None]] = defaultdict(list)
    pinned: dict[str, bool] = {}
    for hook in tools.hooks:
        if hook.remote:
            repos[hook.repo].append(hook.rev_line)
            pinned[hook.repo] = hook.pinned
    ev = Evidence(
        f"{len(tools.hooks)} pre-commit hook(s) in {path}: " + ", ".join(tools.precommit_hooks[:6]),
        Strength.PRESENT,
        path,
        1,
    )
    if not repos:
        return Outcome.passed(ev, note="only local hooks: nothing to pin")
    loose = [r for r, ok in pinned.items() if not ok]
    hits = [
        Hit(
            f"hook repository {r} is not pinned (rev: {_rev(tools.hooks, r)}): pin a tag or commit",
            path,
            repos[r][0],
        )
        for r in loose
    ]
    return Outcome.partial(
        1 - len(loose) / len(repos),
        *hits,
        evidence=[ev],
        note=f"{len(repos) - len(loose)} of {len(repos)} hook repositories pinned",
    )


def _rev(hooks: Sequence[Hook], repo: str) -> str:
    return next((h.rev or "none" for h in hooks if h.repo == repo), "none")


@rule(
    code="CQ004",
    name="no-formatter",
    title="A code formatter is configured",
    severity="low",
    practices=("seml-26",),
)
def no_formatter(facts: Facts) -> Outcome:
    """## What it finds
    Python projects with no code formatter set up: no black, `ruff format`, isort, yapf or
    autopep8 configuration, hook, task or CI step.

    ## Why it matters
    A formatter removes style from review, so reviewers of training code (seml-15) look
    at logic, and a formatting check is the cheapest static check of all (seml-26).

    ## Example
    A project whose pull requests argue about quotes and line breaks.

    ## Instead
    Run `ruff format` (or black) as a pre-commit hook and `ruff format --check` in CI.
    """
    if not facts.python.modules:
        return Outcome.not_applicable("no Python code or notebooks")
    return _tool_outcome(
        facts,
        FORMATTERS,
        "format",
        "code formatter",
        "run `ruff format` (or black) as a pre-commit hook and check it in CI",
    )


@rule(
    code="CQ005",
    name="no-security-linter",
    title="Security linting is configured",
    severity="medium",
    practices=("seml-27",),
)
def no_security_linter(facts: Facts) -> Outcome:
    """## What it finds
    Python projects with no security linter: no bandit configuration, hook, task or CI
    step, ruff without its `S` (flake8-bandit) rules, flake8 without flake8-bandit, no
    Semgrep, and no CodeQL or similar scan in CI.

    ## Why it matters
    SE-ML "Assure Application Security" (seml-27): ML code is full of the patterns
    security linters flag, `pickle.load` of downloaded models, `yaml.load`, `eval` of
    config strings, `subprocess` with shell=True, and they are cheap to find statically.

    ## Example
    `[tool.ruff.lint] select = ["E", "F"]`, and `torch.load(url_path)` in `serve.py`.

    ## Instead
    ```toml
    [tool.ruff.lint]
    extend-select = ["S"]
    ```
    or run `bandit -r src` in CI.
    """
    if not facts.python.modules:
        return Outcome.not_applicable("no Python code or notebooks")
    tools = facts.tools
    run = tools.ci("security")
    evidence: list[Evidence] = []
    use: ToolUse | None = tools.use("bandit", "semgrep")
    if use is not None:
        evidence.append(use.evidence())
    if tools.ruff_security:
        ruff = tools.use("ruff")
        path = ruff.path if ruff else None
        evidence.append(
            Evidence(
                "ruff selects the S (flake8-bandit) rules",
                Strength.PRESENT,
                path,
                ruff.line if ruff else None,
            )
        )
    if tools.flake8_bandit:
        evidence.append(
            Evidence("flake8 runs with flake8-bandit", Strength.PRESENT, tools.configured("flake8"))
        )
    if run is not None and run.strength >= Strength.AUTOMATED:
        evidence.append(run.evidence())
    if evidence:
        return Outcome.passed(*evidence)
    declared = tools.use("bandit", declared=True)
    if declared is not None:
        return Outcome.partial(
            0.5,
            Hit(
                "bandit is a dependency but nothing configures or runs it: run it in CI or a "
                "pre-commit hook",
                declared.path,
                declared.line,
            ),
            evidence=[declared.evidence(Strength.DECLARED)],
        )
    ruff = tools.use("ruff")
    where = (
        ruff.path
        if ruff and ruff.via == "config"
        else facts.files.anchor("pyproject.toml", "setup.cfg", "README*")
    )
    line = ruff.line if ruff and ruff.via == "config" else 1
    return Outcome.failed(
        Hit(
            'no security linting: select ruff\'s S rules (`extend-select = ["S"]`) or run bandit',
            where,
            line,
        )
    )


_DEF = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.M)
#: names too generic to say that a notebook copied a module's function
_GENERIC = frozenset(
    {
        "main",
        "run",
        "plot",
        "test",
        "setup",
        "train",
        "predict",
        "load_data",
        "evaluate",
        "model",
        "net",
        "forward",
    }
)
#: a notebook needs this many functions and classes of its own to count as holding logic
_MIN_DEFS = 3


@rule(
    code="CQ006",
    name="logic-trapped-in-notebooks",
    title="Reusable logic lives in modules, not notebooks",
    severity="medium",
    practices=("seml-4",),
    scope="code",
)
def logic_trapped_in_notebooks(facts: Facts) -> Outcome:
    """## What it finds
    Notebooks that define three or more top-level functions or classes that no Python
    module of the repository defines, and notebooks that redefine a function a module
    already provides instead of importing it. The finding points at the first definition.
    Not applicable without notebooks.

    ## Why it matters
    SE-ML "Write Reusable Scripts for Data Cleaning and Merging" (seml-4): logic that
    lives in a notebook cannot be imported, tested or reviewed as code, so every new
    notebook copies it and the copies drift apart.

    ## Example
    `notebooks/explore.ipynb` defining `clean_prices`, `add_lag_features` and
    `train_model` in its cells.

    ## Instead
    Move the functions into `src/mypkg/features.py` (with tests), then in the notebook:
    `from mypkg.features import clean_prices, add_lag_features`.
    """
    notebooks = facts.python.notebooks
    if not notebooks:
        return Outcome.not_applicable("no notebooks")
    defined: dict[str, list[str]] = defaultdict(list)
    for m in facts.python.modules:
        if not m.is_notebook:
            for name in _DEF.findall(m.source):
                defined[name].append(m.path)
    hits: list[Hit] = []
    for nb in notebooks:
        own: list[tuple[str, int]] = []
        for match in _DEF.finditer(nb.source):
            line = nb.source.count("\n", 0, match.start()) + 1
            name = match.group(1)
            if name not in defined:
                if all(name != n for n, _ in own):
                    own.append((name, line))
            elif len(set(defined[name])) == 1 and name not in _GENERIC and len(name) > 5:
                hits.append(
                    Hit(
                        f"redefines {name}() from {defined[name][0]}: import it instead",
                        nb.path,
                        line,
                    )
                )
        if len(own) >= _MIN_DEFS:
            names = ", ".join(n for n, _ in own[:4]) + (", ..." if len(own) > 4 else "")
            hits.append(
                Hit(
                    f"defines {len(own)} functions/classes no module has ({names}): "
                    "move them into a module and import them",
                    nb.path,
                    own[0][1],
                )
            )
    return Outcome.from_hits(
        hits,
        evidence=[
            Evidence(
                f"{len(notebooks)} notebook(s) keep their logic in modules",
                Strength.PRESENT,
                notebooks[0].path,
                None,
            )
        ]
        if not hits
        else [],
    )


#: outputs larger than this (bytes of the notebook's JSON outputs) bloat the repository
_MAX_OUTPUT = 1_000_000


@rule(
    code="CQ007",
    name="notebook-run-out-of-order",
    title="Notebooks are committed run top to bottom",
    severity="low",
    practices=(),
    scope="code",
)
def notebook_run_out_of_order(facts: Facts) -> Outcome:
    """## What it finds
    Committed notebooks whose code cells were executed out of order (an execution count
    lower than one above it), and notebooks carrying more than 1 MB of outputs. The
    finding points at the first cell out of order. Not applicable without notebooks.

    ## Why it matters
    A notebook run out of order shows results that its code, read top to bottom, may not
    reproduce: cells depend on state from cells run later or since deleted. Large outputs
    (images, wide tables) bloat every clone and make diffs unreadable.

    ## Example
    Cells with execution counts `[3, 1, 7, 2]`.

    ## Instead
    Restart the kernel and run all cells before committing, or strip outputs with
    `nbstripout` (as a pre-commit hook) and keep results in reports or an experiment
    tracker.
    """
    notebooks = facts.python.notebooks
    if not notebooks:
        return Outcome.not_applicable("no notebooks")
    hits: list[Hit] = []
    for nb in notebooks:
        text = facts.files.read_text(nb.path)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            continue  # AUD002 reports it
        cells = data.get("cells") if isinstance(data, dict) else None
        if not isinstance(cells, list):
            continue
        code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
        last = 0
        for i, cell in enumerate(code):
            count = cell.get("execution_count")
            if not isinstance(count, int):
                continue
            if count < last:
                line = nb.cell_starts[i] if i < len(nb.cell_starts) else None
                hits.append(
                    Hit(
                        f"cell {i + 1} ran before the cell above it (execution count "
                        f"{count} after {last}): restart the kernel and run all",
                        nb.path,
                        line,
                        context=f"{nb.path} out of order",
                    )
                )
                break
            last = count
        size = sum(len(json.dumps(c.get("outputs", []))) for c in code)
        if size > _MAX_OUTPUT:
            hits.append(
                Hit(
                    f"{size / 1e6:.1f} MB of outputs committed: strip them "
                    "(nbstripout) or save results elsewhere",
                    nb.path,
                    1,
                    context=f"{nb.path} large outputs",
                )
            )
    return Outcome.from_hits(
        hits,
        evidence=[
            Evidence(
                f"{len(notebooks)} notebook(s) run in order, outputs small",
                Strength.PRESENT,
                notebooks[0].path,
                None,
            )
        ]
        if not hits
        else [],
    )
