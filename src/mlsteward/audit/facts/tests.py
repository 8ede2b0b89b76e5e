"""Tests, found by pytest's conventions, and the project code they exercise.

A *test module* is a Python file pytest or unittest would collect (``test_*.py``,
``*_test.py``, files under a ``tests/`` folder, the ``python_files`` patterns of the pytest
config, or any module defining a ``unittest.TestCase`` subclass) that defines at least one
test. Other files in test folders (``conftest.py``, helpers) are *support* modules.

Each test module's imports are mapped to the repository's own modules by dotted name: from
the root, from ``src/``, from the folder above each top-level package, and, for a test that
puts a folder on ``sys.path`` itself, by a unique dotted suffix. ``from pkg import name``
where ``pkg/__init__.py`` re-exports ``name`` from a submodule counts as importing that
submodule; imports of the ``conftest.py`` files above a test count for the test too (the
resolving is `mlsteward.audit.facts.imports`'s).

The module also names the code that most needs tests (`TestFacts.targets`): feature and
data-preparation modules (by name) and model code (``nn.Module``, Keras and scikit-learn
subclasses, model builders, training functions).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from mlsteward.audit.facts.files import glob_match
from mlsteward.audit.facts.imports import (
    ImportResolver,
    absolute_imports,
    imported_names,
    index_modules,
)

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.facts.python import Module

__all__ = ["MODEL_BASES", "Finding", "Target", "TestCase", "TestFacts", "gather"]


def _words(text: str) -> frozenset[str]:
    """A set of names written as one string (long vocabularies stay readable)."""
    return frozenset(text.split())


def _word_tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: base classes that make a class model code (resolved dotted names)
MODEL_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "pytorch_lightning.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "tensorflow.keras.Model",
        "tensorflow.keras.models.Model",
        "tensorflow.keras.layers.Layer",
        "tensorflow.Module",
        "keras.Model",
        "keras.models.Model",
        "keras.layers.Layer",
        "tf_keras.Model",
        "flax.linen.Module",
        "equinox.Module",
        "haiku.Module",
        "transformers.PreTrainedModel",
        "sklearn.base.BaseEstimator",
        "sklearn.base.ClassifierMixin",
        "sklearn.base.RegressorMixin",
        "sklearn.base.TransformerMixin",
    }
)
_MODEL_FUNC = re.compile(
    r"^(build|create|get|make|define|init)_?\w*model$|^model_fn$|^run_training$|"
    r"^(train|fit)(?!_test_split)(_\w+)?$"
)
_FEATURE = re.compile(r"feature|featuri[sz]|transform(?!er)|preprocess|pre_process|encoding")
_DATAPREP = re.compile(
    r"clean|\betl\b|(^|_)etl_|(^|[_/])data($|[_/])|dataset|datamodule|dataloader|ingest|"
    r"prepar|(^|_)prep($|_)|wrangl|merge|make_data"
)
#: source folders that are not the project's code proper
#: folders of code that is not the project's own: docs, examples and samples for users,
#: templates the project generates for others, test fixtures
_NOT_PROJECT = frozenset(
    {
        *("docs", "doc", "examples", "example", "samples", "sample", "tutorials", "tutorial"),
        *("benchmarks", "migrations", "templates", "template", "test_data", "testdata"),
        *("fixtures", "notebooks", "notebook", "nbs"),
    }
)
#: for notebooks, a notebooks folder is where they belong, not a sign of helper code
_NOT_PROJECT_NB = _NOT_PROJECT - {"notebooks", "notebook", "nbs"}
#: libraries that feature and data-preparation code works with (a module that imports none
#: of them is named after features or data, but does not transform any)
_DATA_LIBS = _words(
    """pandas numpy polars pyarrow scipy sklearn torch tensorflow keras jax pyspark dask datasets
    cv2 PIL skimage librosa torchaudio torchvision nltk spacy transformers tokenizers
    category_encoders featuretools tsfresh xarray h5py duckdb pandera great_expectations"""
)
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_DATA_SUFFIXES = _word_tuple(
    ".csv .json .jsonl .parquet .npy .npz .pkl .pickle .yaml .yml .txt .tsv .h5 .png .jpg .wav "
    ".pt .onnx"
)
#: a class statement whose bases may be a model base (parse only modules that have one)
_CLASS_HINT = re.compile(r"^\s*class\s+\w+\s*\([^)]*(Module|Model|Layer|Estimator|Mixin)\b", re.M)
#: a module that fits a model: model.fit(...), loss.backward(), optimizer.step(), xgb.train(...)
_TRAINS = re.compile(
    r"\.(fit|fit_generator|train_on_batch|partial_fit)\(|\.backward\(|\b\w*optim\w*\.step\(|"
    r"\b\w*trainer\.(fit|train)\(|\b(xgb|xgboost|lgb|lightgbm|catboost)\.train\(|"
    r"\.train\([^)]*\bepochs\s*="
)
_TOP_DEF = re.compile(r"^(?:async\s+def|def|class)\s+\w+", re.M)


@dataclass(frozen=True)
class TestCase:
    """One test function or method (found in the text: collecting tests parses nothing)."""

    __test__ = False  # not a pytest test class, whatever its name

    path: str
    name: str
    line: int
    cls: str | None = None


@dataclass(frozen=True)
class Target:
    """Project code that should have tests: why, and where that shows."""

    module: Module = field(compare=False)
    reason: str
    line: int | None = None

    @property
    def path(self) -> str:
        return self.module.path


@dataclass
class TestFacts:
    """The repository's tests and what they import.

    Attributes:
        modules: test modules (files that define at least one test).
        support: conftest.py files and helpers in test folders.
        cases: every test function and method.
        imported: test module path -> the project module paths it imports (directly).
        index: dotted name -> project module path, as the test imports resolve them.
        data_files: non-Python files in test folders (fixtures, golden outputs).
        source: the project's own modules (not tests, docs or examples; no notebooks).
    """

    __test__ = False  # not a pytest test class, whatever its name

    modules: list[Module]
    support: list[Module]
    cases: list[TestCase]
    imported: dict[str, frozenset[str]]
    index: dict[str, str]
    data_files: list[str]
    source: list[Module] = field(default_factory=list, repr=False)
    resolver: ImportResolver | None = field(default=None, repr=False)
    repo_files: tuple[str, ...] = field(default=(), repr=False)
    notebooks: list[Module] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.cases)

    @property
    def example(self) -> Module | None:
        """A test module to show: one in the project's own test folders when there is one."""
        own = [m for m in self.modules if not _outside_project(m.path)]
        pool = own or self.modules
        return pool[0] if pool else None

    @cached_property
    def test_lines(self) -> int:
        """Lines of test code (test and support modules), blank and comment lines left out."""
        return sum(_lines(m) for m in [*self.modules, *self.support])

    @cached_property
    def source_lines(self) -> int:
        """Lines of project code (setup.py left out), blank and comment lines left out."""
        return sum(_lines(m) for m in self.source if not m.path.endswith("setup.py"))

    @cached_property
    def _by_target(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for test, targets in self.imported.items():
            for t in targets:
                out.setdefault(t, []).append(test)
        return out

    def tested(self, module_path: str) -> list[str]:
        """Test modules that import the module at ``module_path`` directly."""
        return sorted(self._by_target.get(module_path, []))

    @cached_property
    def _graph(self) -> dict[str, frozenset[str]]:
        """Project module -> the project modules it imports, for those the tests import."""
        wanted = set(self._by_target)
        if self.resolver is None:
            return {}
        return {
            m.path: frozenset(self.resolver.resolve(absolute_imports(m))) - {m.path}
            for m in self.source
            if m.path in wanted
        }

    def reached(self, module_path: str) -> list[str]:
        """Test modules that import a project module which itself imports ``module_path``."""
        out = []
        for test, targets in self.imported.items():
            if any(module_path in self._graph.get(t, ()) for t in targets):
                out.append(test)
        return sorted(out)

    def cases_in(self, path: str) -> list[TestCase]:
        return [c for c in self.cases if c.path == path]

    # -- what should be tested ----------------------------------------------------------------

    @cached_property
    def model_targets(self) -> list[Target]:
        """Modules that define models (nn.Module, Keras, scikit-learn) or train them."""
        found: dict[str, Target] = {}
        classes: dict[str, set[str]] = {}
        ml = [m for m in self.source if _uses_ml(m)]  # a text scan: no parse for the rest
        for m in ml:
            model_classes = _model_classes(m)
            if model_classes:
                classes[m.path] = set(model_classes)
                listed = list(model_classes)
                shown = ", ".join(listed[:3]) + (", ..." if len(listed) > 3 else "")
                what = "model class" if len(listed) == 1 else "model classes"
                found[m.path] = Target(m, f"defines {what} {shown}", model_classes[listed[0]])
        # a subclass of a project model class defined in another module
        names = {name for name, path in self.index.items() if path in classes}
        for m in self.source:
            if m.path in found or not (m.imports & names) or m.tree is None:
                continue
            for node in _top_classes(m):
                for base in node.bases:
                    qual = m.qualname(base) or ""
                    mod, _, name = qual.rpartition(".")
                    path = self.index.get(mod)
                    if path is not None and name in classes.get(path, ()):
                        found[m.path] = Target(m, f"defines model class {node.name}", node.lineno)
        for m in ml:
            if m.path in found or m.tree is None:
                continue
            for stmt in m.tree.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and _MODEL_FUNC.match(
                    stmt.name
                ):
                    found[m.path] = Target(m, f"defines {stmt.name}()", stmt.lineno)
                    break
        return [found[p] for p in sorted(found)]

    @cached_property
    def training_modules(self) -> list[Module]:
        """Project modules that define or train models (a text scan for fit/backward/step)."""
        found = {t.path: t.module for t in self.model_targets}
        for m in self.source:
            if m.path not in found and _uses_ml(m) and _TRAINS.search(m.source):
                found[m.path] = m
        return [found[p] for p in sorted(found)]

    @cached_property
    def training_notebooks(self) -> list[Module]:
        """Notebooks that use an ML library and fit a model (not docs' or examples' ones)."""
        return [
            m
            for m in self.notebooks
            if not _outside_project(m.path, _NOT_PROJECT_NB)
            and _uses_ml(m)
            and _TRAINS.search(m.source)
        ]

    @cached_property
    def feature_targets(self) -> list[Target]:
        """Modules whose name says they build features or transform inputs."""
        return self._named(_FEATURE, "feature code")

    @cached_property
    def dataprep_targets(self) -> list[Target]:
        """Modules whose name says they load, clean, merge or split data."""
        return self._named(_DATAPREP, "data preparation code")

    def _named(self, rx: re.Pattern[str], what: str) -> list[Target]:
        models = {t.path for t in self.model_targets}
        out = []
        for m in self.source:
            name = m.path.rpartition(".")[0].lower()
            if m.path in models or not rx.search(name):
                continue
            if not any(n.split(".")[0] in _DATA_LIBS for n in m.imports):
                continue  # named after data, but transforms none (an API, a CLI, constants)
            first = _TOP_DEF.search(m.source)
            if first:
                line = m.source.count("\n", 0, first.start()) + 1
                out.append(Target(m, f"{what} ({m.path.rpartition('/')[2]})", line))
        return out

    # -- what the tests check ------------------------------------------------------------------

    def functions(
        self, module: Module
    ) -> list[tuple[TestCase, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """The test cases of a test module with their AST (parses the module, and walks only
        its top level and class bodies)."""
        by_line = {c.line: c for c in self.cases_in(module.path)}
        if not by_line or module.tree is None:
            return []
        out: list[tuple[TestCase, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for node in module.tree.body:
            body = node.body if isinstance(node, ast.ClassDef) else [node]
            for item in body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    case = by_line.get(item.lineno)
                    if case is not None and case.name == item.name:
                        out.append((case, item))
        return out

    @cached_property
    def _ml_paths(self) -> frozenset[str]:
        return frozenset(m.path for m in self.source if _uses_ml(m))

    def exercises_ml(self, module: Module) -> bool:
        """A test module that uses an ML library, or imports project code that does."""
        return _uses_ml(module) or bool(
            self.imported.get(module.path, frozenset()) & self._ml_paths
        )

    @cached_property
    def pipeline_tests(self) -> list[Finding]:
        """Tests that run the ML pipeline end to end (train then predict, ``dvc repro``, ...)."""
        out: list[Finding] = []
        scripts = {f.rpartition("/")[2] for f in self.repo_files if f.endswith(".py")}
        scripts |= {"dvc"} if any(f.endswith("dvc.yaml") for f in self.repo_files) else set()
        for m in self.modules:
            if not _PIPELINE_HINT.search(m.source):
                continue
            ml = self.exercises_ml(m)
            for case, node in self.functions(m):
                reason = _pipeline_reason(m, node, case, ml, self.index, scripts)
                if reason:
                    out.append(Finding(case, reason))
        return out

    @cached_property
    def quality_checks(self) -> list[Finding]:
        """Tests that hold the model to a metric floor or to golden predictions."""
        out: list[Finding] = []
        for m in self.modules:
            if not _QUALITY_HINT.search(m.source) or not self.exercises_ml(m):
                continue
            for case, node in self.functions(m):
                found = _quality_check(m, node)
                if found:
                    out.append(Finding(case, found[0], found[1]))
        return out


@dataclass(frozen=True)
class Finding:
    """A test that does something the ML Test Score asks for, and what it does."""

    case: TestCase
    reason: str
    line: int | None = None

    @property
    def path(self) -> str:
        return self.case.path

    @property
    def where(self) -> int:
        return self.line or self.case.line


_PIPELINE_HINT = re.compile(
    r"dvc|train|\.fit\(|pipeline|end.?to.?end|e2e|integration|smoke|mlflow", re.I
)
_QUALITY_HINT = re.compile(
    r"acc|f1|auc|rmse|mse|mae|r2|loss|score|precision|recall|bleu|rouge|iou|metric|perplexity|"
    r"assert_allclose|assert_array_almost|assert_close|allclose|approx|golden|expected|snapshot|pred",
    re.I,
)
_RUNS = re.compile(
    r"\bdvc\s+(repro|exp\s+run)\b|\btrain[a-z_]*\.py\b|-m\s+[\w.]*train|\bmlflow\s+run\b|"
    r"\bpipeline\.py\b"
)
_LAUNCHERS = ("subprocess.", "os.system", "os.popen", "runpy.", "sh.", "invoke", "script_runner")
_TRAIN = re.compile(
    r"^(train|fit)(?!_?transform)(?!_test_split)(?!\w*(step|batch|epoch|loop))\w*$|^run_(training|train|pipeline)\w*$"
)
_PREDICT = re.compile(r"^(predict|evaluate|eval|score|infer|inference|batch_predict)\w*$")
_E2E = re.compile(r"e2e|end_?to_?end|integration|pipeline|smoke", re.I)
_METRIC = _words(
    """acc accuracy f1 auc roc rmse mse mae mape r2 loss score precision recall bleu rouge iou map
    perplexity ndcg metric metrics auroc fscore top1 top5 wer cer"""
)
_PRED = _words(
    "pred preds prediction predictions predicted output outputs logits probs proba yhat forecast"
)
_GOLDEN = _words(
    "expected golden reference baseline snapshot label labels target targets truth ytrue"
)
_CLOSE = _word_tuple(
    """assert_allclose assert_array_almost_equal assert_almost_equal assert_close allclose
    assert_frame_equal assert_series_equal isclose"""
)


def _tokens(node: ast.AST) -> set[str]:
    """Lower-case identifier words in an expression (``val_accuracy`` -> val, accuracy)."""
    out: set[str] = set()
    for sub in ast.walk(node):
        name = None
        if isinstance(sub, ast.Name):
            name = sub.id
        elif isinstance(sub, ast.Attribute):
            name = sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) < 40:
            name = sub.value
        if name:
            out.update(w for w in re.split(r"[^a-z0-9]+", name.lower()) if w)
            out.add(re.sub(r"[^a-z0-9]", "", name.lower()))
    return out


def _calls(node: ast.AST, module: Module) -> list[tuple[ast.Call, str]]:
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = module.qualname(sub.func)
            if name is not None:
                out.append((sub, name))
    return out


def _pipeline_reason(
    module: Module,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    case: TestCase,
    ml: bool,
    index: dict[str, str],
    scripts: set[str],
) -> str:
    """Why this test runs the pipeline end to end, or "" when it does not."""
    calls = _calls(node, module)
    launches = any(name.startswith(_LAUNCHERS) or name.endswith(".invoke") for _, name in calls)
    if launches:
        for sub in ast.walk(node):
            if not (isinstance(sub, ast.Constant) and isinstance(sub.value, str)):
                continue
            match = _RUNS.search(sub.value)
            # the script it runs must be the repository's own, not one the test writes
            if match and _script_of(match, scripts):
                return f"runs `{sub.value.strip()[:60]}`"
    if not ml:
        return ""
    last = [name.rsplit(".", 1)[-1] for _, name in calls]
    trains = [n for n in last if _TRAIN.match(n)]
    predicts = [n for n in last if _PREDICT.match(n)]
    if trains and predicts:
        return f"trains ({trains[0]}) and predicts ({predicts[0]})"
    # a call into the project's own training entry point (train.train_model(...))
    for _, name in calls:
        mod, _, func = name.rpartition(".")
        if mod in index and _TRAIN.match(func):
            return f"runs the project's training ({name}) on test data"
    if _E2E.search(case.name) and (trains or "main" in last):
        return f"end-to-end test ({case.name})"
    return ""


def _script_of(match: re.Match[str], scripts: set[str]) -> bool:
    word = match.group(0)
    if word.startswith(("dvc", "mlflow")):
        return word.split()[0] in scripts or word.startswith("mlflow")
    if word.endswith(".py"):
        return word.rpartition("/")[2] in scripts
    if word.startswith("-m"):
        return word.split()[-1].rpartition(".")[2] + ".py" in scripts
    return False


def _quality_check(
    module: Module, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[str, int] | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert) and isinstance(sub.test, ast.Compare):
            cmp = sub.test
            sides = [cmp.left, *cmp.comparators]
            words = [_tokens(side) for side in sides]
            every = set().union(*words)
            text = ast.unparse(cmp)[:60]
            # `metric >= 0` is a sanity check, not a floor
            trivial = any(isinstance(x, ast.Constant) and x.value == 0 for x in sides)
            bound = any(isinstance(op, ast.Gt | ast.GtE | ast.Lt | ast.LtE) for op in cmp.ops)
            if bound and not trivial and every & _METRIC:
                return f"asserts a metric bound: `assert {text}`", sub.lineno
            # predictions on one side, expected values on another
            pred = {i for i, w in enumerate(words) if w & _PRED}
            gold = {i for i, w in enumerate(words) if w & _GOLDEN}
            if pred - gold and gold - pred:
                return f"asserts predictions against expected values: `assert {text}`", sub.lineno
            if (every & _METRIC) and any(
                isinstance(s, ast.Call) and (module.qualname(s.func) or "").endswith("approx")
                for s in ast.walk(cmp)
            ):
                return f"pins a metric value: `assert {text}`", sub.lineno
        elif isinstance(sub, ast.Call):
            name = module.qualname(sub.func) or ""
            # the values compared must be model outputs or metrics, not any array
            if name.rsplit(".", 1)[-1] in _CLOSE and _tokens(sub) & (_PRED | _METRIC):
                return f"compares outputs with reference values ({name})", sub.lineno
    return None


# -- reading tests ---------------------------------------------------------------------------------


_SCAN = re.compile(
    r"^(?:class[ \t]+(?P<cls>\w+)[ \t]*(?:\((?P<bases>[^)]*)\))?[ \t]*:"
    r"|(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+(?P<test>test\w*)[ \t]*\("
    r"|[^\s#@)\]}'\"])",
    re.M,
)
_TESTCASE = re.compile(r"^class\s+\w+\s*\([^)]*TestCase", re.M)


def _cases(module: Module) -> list[TestCase]:
    """pytest defaults: ``test*`` functions, ``test*`` methods of ``Test*``/TestCase classes.

    A scan of the text, not a parse: a top-level ``class`` opens a block that the next
    top-level statement closes; a ``def test*`` counts at top level or as a method of a
    test class (at the indentation of its first method).
    """
    out: list[TestCase] = []
    local: set[str] = set()  # TestCase subclasses of this module, for their subclasses
    cls: str | None = None
    method_indent: str | None = None
    source = module.source
    line, pos = 1, 0
    for match in _SCAN.finditer(source):
        line += source.count("\n", pos, match.start())
        pos = match.start()
        if match.group("cls"):
            name = match.group("cls")
            bases = [b.strip().rsplit(".", 1)[-1] for b in (match.group("bases") or "").split(",")]
            is_case = any(b.endswith("TestCase") or b in local for b in bases)
            if is_case:
                local.add(name)
            cls = name if is_case or name.startswith("Test") else None
            method_indent = None
        elif match.group("test"):
            indent = match.group("indent")
            if not indent:
                cls = None
                out.append(TestCase(module.path, match.group("test"), line))
            elif cls is not None:
                method_indent = method_indent or indent
                if indent == method_indent:
                    out.append(TestCase(module.path, match.group("test"), line, cls))
        else:
            cls = None  # any other top-level statement ends the class
    return out


def _defines_testcase(module: Module) -> bool:
    return "TestCase" in module.source and _TESTCASE.search(module.source) is not None


def _model_classes(module: Module) -> dict[str, int]:
    """Classes that subclass a model base, directly or through another class of the module."""
    out: dict[str, int] = {}
    if not _CLASS_HINT.search(module.source):
        return out
    for node in _top_classes(module):
        for base in node.bases:
            qual = module.qualname(base) or ""
            if qual in MODEL_BASES or qual.rsplit(".", 1)[-1] in out:
                out.setdefault(node.name, node.lineno)
    return out


def _top_classes(module: Module) -> list[ast.ClassDef]:
    """Classes at the top level of a module (model classes are not nested in practice)."""
    tree = module.tree
    return [n for n in tree.body if isinstance(n, ast.ClassDef)] if tree is not None else []


_ML_ROOTS = _words(
    """torch tensorflow keras sklearn xgboost lightgbm catboost jax flax pytorch_lightning
    lightning transformers statsmodels fastai mxnet paddle"""
)


def _uses_ml(module: Module) -> bool:
    return any(name.split(".")[0] in _ML_ROOTS for name in module.imports)


_CODE_LINE = re.compile(r"^[ \t]*[^\s#]", re.M)


def _lines(module: Module) -> int:
    """Lines that are neither blank nor comments."""
    return len(_CODE_LINE.findall(module.source))


# -- gathering -------------------------------------------------------------------------------------


def gather(facts: Facts) -> TestFacts:
    """Find the tests, then map what they import to the project's modules."""
    from mlsteward.audit.facts.python import is_test_path

    python = facts.python
    patterns: tuple[str, ...] = ()
    try:
        cfg = facts.tools.pytest
        patterns = cfg.python_files if cfg is not None else ()
    except ImportError:  # pragma: no cover - built without the tools area
        cfg = None
    modules: list[Module] = []
    support: list[Module] = []
    cases: list[TestCase] = []
    source: list[Module] = []
    for m in python.modules:
        if m.is_notebook:
            continue
        by_config = any(glob_match(m.path, p) for p in patterns)
        candidate = is_test_path(m.path) or by_config or _defines_testcase(m)
        found = _cases(m) if candidate else []
        if found and not m.path.endswith("conftest.py"):
            modules.append(m)
            cases.extend(found)
        elif candidate and is_test_path(m.path):
            support.append(m)
        else:
            source.append(m)
    files = set(facts.files.files)
    resolver = ImportResolver(source, files)
    conftests = {
        m.path.rpartition("/")[0] or ".": m for m in support if m.path.endswith("conftest.py")
    }
    helpers = {m.path: m for m in support}
    helper_index, _ = index_modules(support, files)
    heads = frozenset(name.split(".")[0] for name in resolver.exact)
    memo: dict[str, set[str]] = {}

    def names_of(module: Module) -> set[str]:
        if module.path not in memo:
            memo[module.path] = imported_names(module, heads)
        return memo[module.path]

    imported: dict[str, frozenset[str]] = {}
    for m in modules:
        names = set(names_of(m))
        folder = m.path
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            conf = conftests.get(folder)
            if conf is not None:
                names |= names_of(conf)
        if "." in conftests:
            names |= names_of(conftests["."])
        # helpers of the test suite that the test imports (tests/utils.py) count too
        for name in list(names):
            helper = helper_index.get(name)
            if helper is not None and helper in helpers:
                names.discard(name)  # `import util` is the suite's util.py, not a project one
                names |= names_of(helpers[helper])
        imported[m.path] = frozenset(resolver.resolve(names))
    project = [m for m in source if not _outside_project(m.path)]
    data_files = [
        f
        for f in facts.files.files
        if f.lower().endswith(_DATA_SUFFIXES) and any(p in _TEST_DIRS for p in f.split("/")[:-1])
    ]
    return TestFacts(
        modules,
        support,
        cases,
        imported,
        resolver.exact,
        data_files,
        project,
        resolver,
        facts.files.files,
        python.notebooks,
    )


def _outside_project(rel: str, folders: frozenset[str] = _NOT_PROJECT) -> bool:
    """Code in docs, examples, templates, fixtures or notebook folders, not the project's own
    (``notebooks_v1`` and ``examples-old`` count too)."""
    return any(
        part in folders or re.split(r"[_-]", part)[0] in folders for part in rel.split("/")[:-1]
    )
