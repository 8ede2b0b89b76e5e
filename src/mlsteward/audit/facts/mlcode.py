"""What the ML code of a repository does, read from the facts: shared by EXP, DAT and MOD rules.

Plain functions over `Facts`, not a Facts area. The one costly step, indexing every call
of every module by its resolved dotted name (``np.random.seed`` -> ``numpy.random.seed``)
and by its last attribute (``run.log`` -> ``log``), is done once per audit and cached on
the `Facts` object by weak reference, so twenty rules asking "who calls optuna?" cost one
walk. Library lists that several rules share (ML frameworks, data loaders) live here, once;
lists that one rule needs live in that rule's module.

Detection is by name, never by running code: a call is recognised through its import
aliases, and a method on an object of unknown type (``live.log_metric``) only by its
attribute name inside a module that imports the library that defines it.
"""

from __future__ import annotations

import ast
import re
import shlex
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mlsteward.audit.rule import Evidence, Hit, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.facts.ci import Job
    from mlsteward.audit.facts.python import Module

__all__ = [
    "BLACK_BOX",
    "CLASSICAL_LIBS",
    "DATA_LOADERS",
    "DL_LIBS",
    "DUMMY",
    "INTERPRETABLE",
    "ML_LIBS",
    "CodeIndex",
    "DvcPipeline",
    "Site",
    "Stage",
    "ci_running",
    "ci_runs_tests",
    "context_said",
    "dvc_pipeline",
    "enclosing_function",
    "engineered_features",
    "first_import",
    "gate_evidence",
    "gates",
    "in_training_loop",
    "index",
    "is_entry_point",
    "library_users",
    "loads_data",
    "local_imports",
    "training_anchor",
    "training_modules",
    "training_sites",
]

#: deep-learning frameworks: their models learn features, and train in loops
DL_LIBS: tuple[str, ...] = (
    "torch",
    "tensorflow",
    "keras",
    "tf_keras",
    "jax",
    "flax",
    "optax",
    "pytorch_lightning",
    "lightning",
    "transformers",
    "fastai",
    "mxnet",
    "paddle",
    "ultralytics",
    "timm",
    "accelerate",
    "deepspeed",
)

#: classical ML on (mostly) tabular, hand-engineered features
CLASSICAL_LIBS: tuple[str, ...] = (
    "sklearn",
    "xgboost",
    "lightgbm",
    "catboost",
    "statsmodels",
    "prophet",
    "sktime",
    "darts",
    "pycaret",
    "h2o",
    "gensim",
    "surprise",
    "implicit",
    "pyspark.ml",
    "interpret",
    "imodels",
)

ML_LIBS: tuple[str, ...] = DL_LIBS + CLASSICAL_LIBS

# fmt: off
#: models whose behaviour a person can inspect (constructor names; "." ends a prefix)
INTERPRETABLE: tuple[str, ...] = (
    "sklearn.linear_model.", "sklearn.tree.DecisionTreeClassifier",
    "sklearn.tree.DecisionTreeRegressor", "sklearn.naive_bayes.",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis", "sklearn.svm.LinearSVC",
    "sklearn.svm.LinearSVR", "statsmodels.api.OLS", "statsmodels.api.WLS", "statsmodels.api.GLM",
    "statsmodels.api.Logit", "statsmodels.api.Probit", "statsmodels.formula.api.",
    "statsmodels.regression.", "statsmodels.discrete.", "statsmodels.genmod.",
    "interpret.glassbox.", "imodels.", "pygam.",
)
#: classical models that are not
BLACK_BOX: tuple[str, ...] = (
    "sklearn.ensemble.", "sklearn.neural_network.", "sklearn.svm.SVC", "sklearn.svm.SVR",
    "xgboost.", "lightgbm.", "catboost.",
)
#: the simplest baselines: predict the majority class or the mean
DUMMY: tuple[str, ...] = ("sklearn.dummy.DummyClassifier", "sklearn.dummy.DummyRegressor")
# fmt: on

#: calls that read a dataset (exact dotted names, or a package prefix ending in ".")
DATA_LOADERS: tuple[str, ...] = (
    "pandas.read_",
    "polars.read_",
    "polars.scan_",
    "pyarrow.parquet.read_table",
    "pyarrow.csv.read_csv",
    "numpy.load",
    "numpy.loadtxt",
    "numpy.genfromtxt",
    "numpy.memmap",
    "csv.reader",
    "csv.DictReader",
    "datasets.load_dataset",
    "datasets.load_from_disk",
    "tensorflow_datasets.load",
    "torchvision.datasets.",
    "torch.utils.data.DataLoader",
    "tensorflow.data.",
    "keras.utils.image_dataset_from_directory",
    "tensorflow.keras.utils.image_dataset_from_directory",
    "keras.datasets.",
    "tensorflow.keras.datasets.",
    "sklearn.datasets.",
    "ray.data.read_",
    "dask.dataframe.read_",
    "duckdb.",
    "spark.read.",
)

#: method names that mean "this fits a model" (on any object, in a module using an ML library)
_FIT_METHODS = frozenset(
    {"fit", "fit_generator", "train_on_batch", "partial_fit", "backward", "apply_gradients"}
)
#: functions that train a model by themselves
_TRAIN_FUNCTIONS = (
    "xgboost.train",
    "lightgbm.train",
    "catboost.train",
    "jax.grad",
    "jax.value_and_grad",
)
_TRAINER = re.compile(r"trainer|learner", re.I)
_OPTIMIZER = re.compile(r"optim|opt$", re.I)


# -- the call index ---------------------------------------------------------------------------


@dataclass(eq=False, frozen=True)
class Site:
    """One place in one module: a call, an import, a class."""

    module: Module
    node: ast.AST
    name: str = ""

    @property
    def path(self) -> str:
        return self.module.path

    @property
    def line(self) -> int | None:
        return getattr(self.node, "lineno", None)

    @property
    def where(self) -> str:
        """``train.py line 12`` or ``nb.ipynb cell 3, line 2``."""
        return f"{self.path} {self.module.where(self.line)}".strip()

    def evidence(self, text: str, strength: Strength = Strength.PRESENT) -> Evidence:
        return Evidence(text, strength, self.path, self.line)

    def hit(self, message: str) -> Hit:
        """A finding here; in a notebook the message names the cell first."""
        if self.module.is_notebook and self.line is not None:
            message = f"{self.module.where(self.line)}: {message}"
        return Hit(message, self.path, self.line, getattr(self.node, "col_offset", None))


def _has_kwarg(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Call) and any(k.arg in names for k in node.keywords)


def _attr_of(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


#: roots of the libraries whose users the call index reads for method calls: ML and data
#: work, tracking, validation, fairness, explanation, privacy, labelling, serving. A module
#: that imports none of them (a web handler, a CLI, an SDK) has no ML calls to find, and
#: the index does not parse it. Calls looked up by dotted name need no such list.
ECOSYSTEM: tuple[str, ...] = (
    *ML_LIBS,
    "pandas", "numpy", "polars", "pyarrow", "scipy", "dask", "pyspark", "datasets", "cudf",
    "mlflow", "wandb", "neptune", "comet_ml", "clearml", "aim", "sacred", "dvclive", "dvc",
    "tensorboard", "tensorboardX", "optuna", "ray", "hyperopt", "skopt", "keras_tuner",
    "nevergrad", "pandera", "great_expectations", "tensorflow_data_validation", "deepchecks",
    "evidently", "whylogs", "nannyml", "alibi_detect", "alibi", "fairlearn", "aif360", "shap",
    "lime", "eli5", "dalex", "captum", "opacus", "tensorflow_privacy", "diffprivlib", "flwr",
    "syft", "presidio_analyzer", "presidio_anonymizer", "snorkel", "cleanlab",
    "label_studio_sdk", "krippendorff", "imblearn", "ydata_profiling", "pandas_profiling",
    "sweetviz", "featuretools", "tsfresh", "autofeat", "autosklearn", "flaml", "autogluon",
    "autokeras", "nni", "tpot", "codecarbon", "onnx", "onnxruntime", "optimum", "tensorrt",
    "joblib", "skops", "bentoml", "mlsteward", "matplotlib", "seaborn", "plotly", "hydra",
    "omegaconf", "tfx", "tensorflow_model_analysis", "kserve", "seldon_core", "mlserver",
)  # fmt: skip


class CodeIndex:
    """Every call of the relevant modules, by resolved name and by last attribute.

    Built lazily: calls looked up by dotted name (``pandera.`` ...) read only the modules
    that import that name's root; method lookups (``.log(...)``) read notebooks and the
    modules that use a library of `ECOSYSTEM`. Trees are parsed on first need.
    """

    def __init__(self, modules: Iterable[Module]) -> None:
        self._modules = list(modules)
        self._by_root: dict[str, dict[str, list[Site]]] = {}
        self._sites: dict[str, list[Site]] = {}
        self._by_attr: dict[str, list[Site]] | None = None
        # tests get their ML objects from fixtures: a conftest that imports an ML or data
        # library puts every test below it in scope
        self._fixture_dirs = tuple(
            m.path.rsplit("/", 1)[0] + "/" if "/" in m.path else ""
            for m in self._modules
            if m.path.endswith("conftest.py") and m.imports_any(*ECOSYSTEM)
        )

    @cached_property
    def _relevant_paths(self) -> frozenset[str]:
        eco = frozenset(ECOSYSTEM)
        return frozenset(
            m.path
            for m in self._modules
            if m.is_notebook
            or not eco.isdisjoint(m.imports)
            or (m.is_test and any(m.path.startswith(d) for d in self._fixture_dirs))
        )

    def _relevant(self, m: Module) -> bool:
        return m.path in self._relevant_paths

    def _module_sites(self, m: Module) -> list[Site]:
        sites = self._sites.get(m.path)
        if sites is None:
            sites = []
            if m.tree is not None:
                for call in m.nodes(ast.Call):
                    sites.append(Site(m, call, m.qualname(call.func) or ""))
            self._sites[m.path] = sites
        return sites

    @property
    def by_attr(self) -> dict[str, list[Site]]:
        """Calls by the last name of their function, in ML and data modules."""
        if self._by_attr is None:
            by_attr: dict[str, list[Site]] = defaultdict(list)
            for m in self._modules:
                if self._relevant(m):
                    for site in self._module_sites(m):
                        attr = _attr_of(site.node.func)  # type: ignore[attr-defined]
                        if attr:
                            by_attr[attr].append(site)
            self._by_attr = by_attr
        return self._by_attr

    def _names(self, root: str) -> dict[str, list[Site]]:
        """Calls whose resolved name starts with ``root``, from modules that can make them."""
        table = self._by_root.get(root)
        if table is None:
            table = defaultdict(list)
            imported = [m for m in self._modules if root in m.imports]
            # a root nobody imports is a local name (model.fit): read the ML modules
            scope = imported or [m for m in self._modules if self._relevant(m)]
            for m in scope:
                for site in self._module_sites(m):
                    if site.name.split(".", 1)[0] == root:
                        table[site.name].append(site)
            self._by_root[root] = table
        return table

    @staticmethod
    def _keep(sites: Iterable[Site], tests: bool | None) -> list[Site]:
        out = [s for s in sites if tests is None or s.module.is_test == tests]
        return sorted(out, key=lambda s: (s.module.is_notebook, s.path, s.line or 0))

    def calls(self, *names: str, tests: bool | None = False) -> list[Site]:
        """Calls of these dotted names; a name ending in ``.`` or ``_`` is a prefix.

        ``tests`` False keeps source modules and notebooks only, True test modules only,
        None both.
        """
        found: list[Site] = []
        for name in names:
            root = name.split(".", 1)[0].rstrip("_")
            table = self._names(root)
            if name.endswith((".", "_")):
                for full, sites in table.items():
                    if full.startswith(name) or full == name.rstrip("."):
                        found.extend(sites)
            else:
                found.extend(table.get(name, ()))
        return self._keep(_unique(found), tests)

    def methods(
        self, *attrs: str, tests: bool | None = False, within: Iterable[Module] | None = None
    ) -> list[Site]:
        """Calls whose function's last name is one of ``attrs`` (``x.log(...)``, ``log(...)``)."""
        paths = None if within is None else {m.path for m in within}
        found = [
            s for a in attrs for s in self.by_attr.get(a, ()) if paths is None or s.path in paths
        ]
        return self._keep(_unique(found), tests)


def _unique(sites: Iterable[Site]) -> list[Site]:
    seen: set[int] = set()
    out = []
    for s in sites:
        if id(s) not in seen:
            seen.add(id(s))
            out.append(s)
    return out


_INDEX: weakref.WeakKeyDictionary[Facts, CodeIndex] = weakref.WeakKeyDictionary()


def index(facts: Facts) -> CodeIndex:
    """The call index of the repository, built on first use and kept for the audit."""
    idx = _INDEX.get(facts)
    if idx is None:
        idx = CodeIndex(facts.python.modules)
        _INDEX[facts] = idx
    return idx


# -- modules and imports ----------------------------------------------------------------------


def library_users(
    facts: Facts,
    libs: Iterable[str],
    *,
    tests: bool | None = False,
    text: re.Pattern[str] | None = None,
) -> list[Module]:
    """Parsed modules (and notebooks) importing any of ``libs``; tests per ``tests``.

    ``text``, when given, must also match the module's source: a cheap filter before a
    parse, for rules that look for a word inside modules of a common library.
    """
    wanted = tuple(libs)
    return [
        m
        for m in facts.python.modules
        # imports and text first: they cost a scan, a tree costs a parse
        if (tests is None or m.is_test == tests)
        and m.imports_any(*wanted)
        and (text is None or text.search(m.source) is not None)
        and m.tree is not None
    ]


def first_import(module: Module, libs: Iterable[str]) -> Site | None:
    """The first import statement in ``module`` naming one of ``libs`` (or a submodule)."""
    wanted = tuple(libs)

    def matches(name: str) -> bool:
        return any(name == lib or name.startswith(lib + ".") for lib in wanted)

    best: Site | None = None
    for node in module.nodes(ast.Import):
        for a in node.names:
            if matches(a.name) and (best is None or node.lineno < (best.line or 0)):
                best = Site(module, node, a.name)
    for frm in module.nodes(ast.ImportFrom):
        if frm.module and not frm.level:
            names = [frm.module, *(f"{frm.module}.{a.name}" for a in frm.names)]
            hit = next((n for n in names if matches(n)), None)
            if hit and (best is None or frm.lineno < (best.line or 0)):
                best = Site(module, frm, hit)
    return best


_DOTTED: weakref.WeakKeyDictionary[Facts, dict[str, Module]] = weakref.WeakKeyDictionary()


def local_imports(facts: Facts, module: Module) -> list[Module]:
    """The repository's own modules that ``module`` imports (one level, tests left out)."""
    by_dotted = _DOTTED.get(facts)
    if by_dotted is None:
        by_dotted = {m.dotted: m for m in facts.python.source_modules if not m.is_notebook}
        _DOTTED[facts] = by_dotted
    parts = module.dotted.split(".")
    package = parts if module.path.endswith("__init__.py") else parts[:-1]
    names = set(module.imports)
    # relative imports: python.py records ``from .x import y`` as ".x", and not
    # ``from . import y`` at all, so they are resolved here against the package
    for frm in module.nodes(ast.ImportFrom):
        if frm.level:
            base = package[: len(package) - frm.level + 1]
            head = [*base, *(frm.module.split(".") if frm.module else [])]
            names.add(".".join(head))
            names.update(".".join([*head, a.name]) for a in frm.names)
    out: dict[str, Module] = {}
    for name in names:
        target = by_dotted.get(name)
        if target is not None and target.path != module.path:
            out[target.path] = target
    return [out[p] for p in sorted(out)]


# -- tree shape ---------------------------------------------------------------------------------

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def enclosing_function(
    module: Module, node: ast.AST
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost def around ``node`` (None at module level)."""
    parents = module.parents
    cur = parents.get(node)
    while cur is not None:
        if isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef):
            return cur
        cur = parents.get(cur)
    return None


#: what a training loop iterates over (epochs, steps, batches of a loader)
_TRAINING_ITER = re.compile(r"epoch|step|batch|iter|loader|range\(|tqdm|dataset|data\b", re.I)


def in_training_loop(module: Module, node: ast.AST) -> bool:
    """Whether ``node`` runs once per step or epoch: inside a ``while`` loop, or a ``for``
    over epochs, steps, batches or a range, or a loop whose body trains.

    A loop over metric names (``for m in metrics: run.log(m, ...)``) is not one.
    """
    parents = module.parents
    cur = parents.get(node)
    while cur is not None and not isinstance(cur, _FUNCS):
        if isinstance(cur, ast.While):
            return True
        if isinstance(cur, ast.For | ast.AsyncFor):
            head = f"{ast.unparse(cur.target)} in {ast.unparse(cur.iter)}"
            if _TRAINING_ITER.search(head) or _trains_in(cur):
                return True
        cur = parents.get(cur)
    return False


def _trains_in(loop: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and _attr_of(n.func) in _FIT_METHODS for n in ast.walk(loop))


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def is_entry_point(module: Module) -> bool:
    """A notebook, a module with a ``__main__`` guard, or a ``__main__.py``: something run."""
    if module.is_notebook or module.path.endswith("__main__.py"):
        return True
    return module.tree is not None and any(
        _is_main_guard(n) for n in module.tree.body if isinstance(n, ast.If)
    )


# -- training -----------------------------------------------------------------------------------


def training_sites(facts: Facts) -> list[Site]:
    """Calls that fit a model, in source modules and notebooks that use an ML library.

    ``model.fit``, ``loss.backward()``, ``optimizer.step()``, ``trainer.fit/train()``,
    ``xgboost.train`` and the like. Test modules are left out: a test that fits a tiny
    model is not the project's training.
    """
    idx = index(facts)
    ml_paths = {m.path for m in library_users(facts, ML_LIBS)}
    sites = [s for s in idx.methods(*_FIT_METHODS) if s.path in ml_paths]
    for s in idx.methods("train", "step"):
        func = s.node.func if isinstance(s.node, ast.Call) else None
        if s.path not in ml_paths or not isinstance(func, ast.Attribute):
            continue
        receiver = (s.module.qualname(func.value) or "").rsplit(".", 1)[-1]
        if func.attr == "step":
            if _OPTIMIZER.search(receiver):
                sites.append(s)
        elif _TRAINER.search(receiver) or _has_kwarg(s.node, "epochs", "data"):
            # trainer.train(), or ultralytics' model.train(data=..., epochs=...); a bare
            # model.train() only switches a torch module to training mode
            sites.append(s)
    sites.extend(idx.calls(*_TRAIN_FUNCTIONS))
    return CodeIndex._keep(_unique(sites), False)


def training_modules(facts: Facts) -> list[Module]:
    """Source modules and notebooks that train a model, in path order."""
    seen: dict[str, Module] = {}
    for s in training_sites(facts):
        seen.setdefault(s.path, s.module)
    return [seen[p] for p in sorted(seen)]


def training_anchor(facts: Facts, message: str, paths: Iterable[str] | None = None) -> Hit:
    """A repository-level finding about training, pinned on the most telling training call.

    Scripts named like training (``train.py``) come first, then other entry points, then
    any module; notebooks after scripts. ``paths`` limits the choice to those modules.
    Falls back to a file the index has.
    """

    def rank(s: Site) -> tuple[bool, bool, bool, str, int]:
        name = PurePosixPath(s.path).name.lower()
        return (
            s.module.is_notebook,
            "train" not in name,
            not is_entry_point(s.module),
            s.path,
            s.line or 0,
        )

    keep = None if paths is None else set(paths)
    sites = sorted((s for s in training_sites(facts) if keep is None or s.path in keep), key=rank)
    if sites:
        return sites[0].hit(message)
    return Hit(message, facts.files.anchor("train*.py", "**/train*.py"))


def engineered_features(facts: Facts) -> bool | None:
    """Whether the project works with hand-made features (tabular ML), as far as code tells.

    True when a classical model (scikit-learn, boosting, statsmodels) is built; False when
    only networks are trained (they learn their own features); None when nothing trains.
    A context the team set explicitly wins over this guess.
    """
    said = context_said(facts, "features")
    if said is not None:
        return said
    if not training_sites(facts):
        return None
    # a classical model is built on features someone chose; sklearn used only to split
    # the data or to compute metrics beside a network does not count
    return bool(index(facts).calls(*INTERPRETABLE, *BLACK_BOX, *DUMMY))


def loads_data(facts: Facts) -> list[Site]:
    """Calls that read a dataset, in source modules and notebooks."""
    return index(facts).calls(*DATA_LOADERS)


# -- settings and context ------------------------------------------------------------------------


def context_said(facts: Facts, key: str) -> bool | None:
    """The team's own word on a context condition (config or --context), or None when the
    profile's default is in force."""
    return facts.context[key] if key in facts.context_explicit else None


def gates(facts: Facts) -> dict[str, dict[str, Any]]:
    """``[tool.steward.gates.<name>]`` tables, by gate name (empty when none)."""
    raw = facts.settings.extra.get("gates")
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, dict)}


def _norm_key(key: str) -> str:
    return key.replace("-", "_").lower()


def gate_evidence(facts: Facts, *keys: str) -> Evidence | None:
    """Evidence that a gate declares one of ``keys`` (any key when none are given).

    A gate policy in the settings is a declared, checked-in policy: PRESENT. The records of
    its verdicts, read by the REC rules, are what make it VERIFIED.
    """
    wanted = {_norm_key(k) for k in keys}
    for name, table in gates(facts).items():
        found = [k for k in table if not wanted or _norm_key(k) in wanted]
        if found:
            source = facts.settings.source or "pyproject.toml"
            what = f"`{found[0]}`" if wanted else ", ".join(sorted(table)) or "a gate"
            return Evidence(
                f"gate '{name}' in {source} declares {what}",
                Strength.PRESENT,
                source,
                _toml_line(facts, source, f"gates.{name}"),
            )
    return None


def _toml_line(facts: Facts, rel: str, table: str) -> int | None:
    text = facts.files.read_text(rel) if facts.files.exists(rel) else None
    if text is None:
        return None
    for i, line in enumerate(text.splitlines(), 1):
        if table in line.replace('"', "").replace(" ", ""):
            return i
    return None


# -- DVC -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One DVC pipeline stage, as far as these rules need it."""

    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    metrics: tuple[str, ...]
    path: str
    line: int | None = None


@dataclass(frozen=True)
class DvcPipeline:
    """The stages, metrics and params files of the repository's DVC pipelines."""

    stages: tuple[Stage, ...] = ()
    metrics_files: tuple[str, ...] = ()
    params_files: tuple[str, ...] = ()
    path: str | None = None


def _strs(value: Any) -> tuple[str, ...]:
    """Strings of a value that may be one string, a list, or ``{path: options}`` mappings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):
        out: list[str] = []
        for k, v in value.items():
            out.append(str(k))
            if isinstance(v, list):
                out.extend(str(x) for x in v if isinstance(x, str | int | float))
        return tuple(out)
    if isinstance(value, list | tuple):
        return tuple(s for item in value for s in _strs(item))
    return (str(value),)


def dvc_pipeline(facts: Facts) -> DvcPipeline:
    """The DVC pipeline as these rules need it, from ``facts.dvc``."""
    dvc = facts.dvc
    return DvcPipeline(
        tuple(
            Stage(
                s.name,
                " ".join(_strs(s.cmd)),
                _strs(s.deps),
                _strs(s.outs),
                _strs(s.params),
                _strs(s.metrics),
                s.path,
                s.line,
            )
            for s in dvc.stages
        ),
        tuple(dvc.metrics_files),
        tuple(dvc.params_files),
        next(iter(dvc.pipelines), None),
    )


# -- CI ------------------------------------------------------------------------------------------


def _mentions(text: str, module: Module) -> bool:
    if module.path in text:
        return True
    dotted = module.dotted
    return bool(dotted) and re.search(rf"-m\s+{re.escape(dotted)}\b", text) is not None


def ci_running(
    facts: Facts, modules: Iterable[Module], kinds: Sequence[str] = ()
) -> Evidence | None:
    """Evidence that a CI job runs one of ``modules``, directly or through ``dvc repro``.

    The strongest such job wins. ``kinds`` only names the job kind in the evidence text
    when one of the job's commands has it.
    """
    mods = list(modules)
    if not mods:
        return None
    pipe = dvc_pipeline(facts)
    staged = [s for s in pipe.stages if any(_mentions(s.cmd, m) for m in mods)]
    best: tuple[Job, str] | None = None
    for job in facts.ci.jobs:
        for cmd in job.commands:
            text = cmd.text
            runs = any(_mentions(text, m) for m in mods)
            if not runs and staged and re.search(r"\bdvc\s+(repro|exp\s+run)\b", text):
                runs = True
            if runs and (best is None or job.strength > best[0].strength):
                best = (job, text)
    if best is None:
        return None
    job, text = best
    kind = next((k for k in kinds if k in job.kinds), None)
    if kind is not None:
        return job.evidence(kind)
    when = ", ".join(sorted(job.triggers)) or "no trigger"
    first = text.strip().splitlines()[0][:80] if text.strip() else ""
    return Evidence(
        f"{job.provider} job '{job.name}' runs it ({when}): `{first}`",
        job.strength,
        job.path,
        next((c.line for c in job.commands if c.text == text), job.line),
    )


#: pytest options whose value is the next argument (so it is not a test path)
_VALUE_OPTIONS = frozenset({"-k", "-m", "-p", "-c", "-n", "-o", "--junitxml", "--rootdir"})
_PYTEST = re.compile(r"\b(?:py\.test|pytest)\b(.*)")


def ci_runs_tests(facts: Facts, modules: Iterable[Module]) -> Evidence | None:
    """Evidence that a CI test job runs these test modules (by path selection)."""
    mods = [m for m in modules if m.is_test]
    if not mods:
        return None
    best: Evidence | None = None
    for job in facts.ci.jobs_that("test"):
        for cmd in job.commands:
            covers = _covers(cmd.text, mods)
            if covers and (best is None or job.strength > best.strength):
                best = job.evidence("test")
    return best


def _covers(text: str, mods: Sequence[Module]) -> bool:
    """Whether a test command runs any of ``mods`` (pytest with no path runs them all)."""
    for line in text.splitlines():
        match = _PYTEST.search(line)
        if match is None:
            if re.search(r"\b(tox|nox|make\s+(test|check)|hatch\s+test)\b", line):
                return True
            continue
        try:
            args = shlex.split(match.group(1), comments=True)
        except ValueError:
            args = match.group(1).split()
        paths = []
        skip_next = False
        for a in args:
            if skip_next:
                skip_next = False
                continue
            if a in ("&&", ";", "|", "||"):
                break
            if a.startswith("-"):
                # options that take a separate value
                skip_next = a in _VALUE_OPTIONS
                continue
            paths.append(a.split("::")[0].removeprefix("./").rstrip("/"))
        if not paths:
            return True
        if any(m.path == p or m.path.startswith(p + "/") for p in paths for m in mods):
            return True
    return False
