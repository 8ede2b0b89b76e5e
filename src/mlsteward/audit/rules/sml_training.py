"""SML011 and SML014: training smells that span libraries (hyperparameters, randomness).

Seeds are process-wide, so SML014 judges them per process: a notebook runs on its own and
must seed itself; the Python modules of a repository run together (an entry point seeds,
library modules draw), so a seed anywhere in them controls the global generators of all.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.sml_ast import (
    bind_targets,
    calls,
    has_kwarg,
    hit,
    is_const,
    kwarg,
    last,
    line_of,
    parsed,
    smell_outcome,
    words,
)

_ML_LIBS = ("sklearn", "torch", "tensorflow", "keras", "xgboost", "lightgbm")

# -- SML011 ------------------------------------------------------------------------------------

_FOREST = "n_estimators, max_depth, min_samples_leaf"
#: estimator -> the hyperparameters worth naming in the message
_SK_HYPER: dict[str, str] = {
    "RandomForestClassifier": _FOREST,
    "RandomForestRegressor": _FOREST,
    "ExtraTreesClassifier": _FOREST,
    "ExtraTreesRegressor": _FOREST,
    "GradientBoostingClassifier": "n_estimators, learning_rate, max_depth",
    "GradientBoostingRegressor": "n_estimators, learning_rate, max_depth",
    "HistGradientBoostingClassifier": "learning_rate, max_iter, max_leaf_nodes",
    "HistGradientBoostingRegressor": "learning_rate, max_iter, max_leaf_nodes",
    "AdaBoostClassifier": "n_estimators, learning_rate",
    "AdaBoostRegressor": "n_estimators, learning_rate",
    "DecisionTreeClassifier": "max_depth, min_samples_leaf",
    "DecisionTreeRegressor": "max_depth, min_samples_leaf",
    "SVC": "C, kernel, gamma",
    "SVR": "C, kernel, gamma",
    "NuSVC": "nu, kernel, gamma",
    "NuSVR": "C, nu, kernel, gamma",
    "KNeighborsClassifier": "n_neighbors, weights",
    "KNeighborsRegressor": "n_neighbors, weights",
    "MLPClassifier": "hidden_layer_sizes, alpha, learning_rate_init",
    "MLPRegressor": "hidden_layer_sizes, alpha, learning_rate_init",
    "ElasticNet": "alpha, l1_ratio",
    "Lasso": "alpha",
    "Ridge": "alpha",
    "KMeans": "n_clusters",
    "DBSCAN": "eps, min_samples",
    "XGBClassifier": "n_estimators, max_depth, learning_rate",
    "XGBRegressor": "n_estimators, max_depth, learning_rate",
    "LGBMClassifier": "n_estimators, num_leaves, learning_rate",
    "LGBMRegressor": "n_estimators, num_leaves, learning_rate",
}
_SK_PREFIXES = ("sklearn.", "xgboost.", "lightgbm.")
_TORCH_OPTIM = words(
    """
    SGD Adam AdamW Adagrad Adadelta Adamax RMSprop NAdam RAdam ASGD Rprop SparseAdam LBFGS
    """
)
_KERAS_OPTIM = frozenset(
    {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl"}
)
_KERAS_PREFIXES = ("tensorflow.keras.optimizers.", "keras.optimizers.", "tf_keras.optimizers.")


def _is_search(name: str) -> bool:
    """Hyperparameter search wrappers: they set the parameters of what they wrap."""
    return last(name).endswith(("SearchCV", "SearchCv")) or last(name) in ("TuneSearchCV",)


def _tuned_names(m: Module) -> set[str]:
    """Names passed to a search wrapper or given ``set_params`` (tuned after construction)."""
    out: set[str] = set()
    for call, name in calls(m):
        if _is_search(name):
            for a in (*call.args, *(k.value for k in call.keywords)):
                if isinstance(a, ast.Name):
                    out.add(a.id)
        elif (
            last(name) == "set_params"
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
        ):
            out.add(call.func.value.id)
    return out


#: meta-estimators: the base estimator's defaults are part of the method (bagging full trees)
_META = ("Classifier", "Regressor", "ClassifierCV", "RegressorCV", "Chain")


def _is_tuned(m: Module, call: ast.Call, tuned: set[str]) -> bool:
    """The estimator is (inside something) handed to a search, directly or by name."""
    node: ast.AST = call
    parents = m.parents
    first = parents.get(call)
    if isinstance(first, ast.Expr):
        return True  # KMeans() on its own: shown in a notebook, not a model in use
    if isinstance(first, ast.Call | ast.keyword):
        outer = first if isinstance(first, ast.Call) else parents.get(first)
        if isinstance(outer, ast.Call) and last(m.qualname(outer.func)).endswith(_META):
            return True  # BaggingClassifier(DecisionTreeClassifier()): defaults on purpose
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Call):
            if _is_search(m.qualname(parent.func) or ""):
                return True
        elif isinstance(parent, ast.Assign):
            return any(n in tuned for t in parent.targets for n in bind_targets(t))
        elif not isinstance(parent, ast.List | ast.Tuple | ast.keyword | ast.Dict):
            return False
        node = parent


def _default_hyper(m: Module, call: ast.Call, name: str) -> str | None:
    """What the call leaves at its default, or None when it sets something."""
    cls = last(name)
    if any(k.arg is None for k in call.keywords) or any(
        isinstance(a, ast.Starred) for a in call.args
    ):
        return None
    if cls in _SK_HYPER and (
        name.startswith(_SK_PREFIXES) or (name == cls and m.imports_any("sklearn"))
    ):
        return _SK_HYPER[cls] if not call.args and not call.keywords else None
    if name.startswith("torch.optim.") and cls in _TORCH_OPTIM:
        if len(call.args) <= 1 and all(k.arg == "params" for k in call.keywords):
            return "lr" + ("" if cls in ("SparseAdam", "LBFGS", "Rprop") else ", weight_decay")
        return None
    if name.startswith(_KERAS_PREFIXES) and cls in _KERAS_OPTIM:
        return "learning_rate" if not call.args and not call.keywords else None
    return None


@rule(
    code="SML011",
    name="hyperparameters-not-set",
    title="Important hyperparameters are set explicitly",
    severity="low",
    practices=("smell-11",),
    scope="code",
)
def hyperparameters_not_set(facts: Facts) -> Outcome:
    """## What it finds
    Learning algorithms constructed with every hyperparameter at its library default:
    common scikit-learn, XGBoost and LightGBM estimators called with no arguments
    (`RandomForestClassifier()`, `SVC()`, `KMeans()`), PyTorch optimizers given only the
    parameters (`torch.optim.Adam(model.parameters())`), Keras optimizers called with no
    arguments. An estimator handed to a hyperparameter search (`GridSearchCV`,
    `RandomizedSearchCV`, ..., also through a Pipeline) or given `set_params` later is not
    counted: its parameters are being set. Test files are skipped.

    ## Why it matters
    Defaults are a library's guess, not a choice for this problem, and they change between
    versions (scikit-learn changed `n_estimators`, `gamma` and `solver` defaults), so the
    same code trains a different model after an upgrade and nobody can tell from the code
    which settings were meant (smell-11, Hyperparameter Not Explicitly Set).

    ## Example
    ```python
    model = RandomForestClassifier()
    optimizer = torch.optim.Adam(model.parameters())
    ```

    ## Instead
    ```python
    model = RandomForestClassifier(n_estimators=300, max_depth=12, min_samples_leaf=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=0.01)
    ```
    """
    mods = parsed(facts, *_ML_LIBS)
    if not mods:
        return Outcome.not_applicable(
            "no module uses scikit-learn, PyTorch, TensorFlow, XGBoost or LightGBM"
        )
    hits: list[Hit] = []
    for m in mods:
        tuned: set[str] | None = None
        for call, name in calls(m):
            params = _default_hyper(m, call, name)
            if params is None:
                continue
            if tuned is None:
                tuned = _tuned_names(m)
            if _is_tuned(m, call, tuned):
                continue
            hits.append(
                hit(
                    m,
                    call,
                    f"{last(name)}(...) leaves every hyperparameter at its default: "
                    f"set the important ones explicitly ({params})",
                )
            )
    return smell_outcome(hits, "estimators and optimizers set their hyperparameters", mods)


# -- SML014 ------------------------------------------------------------------------------------

#: libraries with a process-wide random generator a seed call controls
LIBS = ("random", "numpy", "torch", "tensorflow")
_SHOWN = {
    "random": "Python's random module",
    "numpy": "NumPy's global generator",
    "torch": "PyTorch",
    "tensorflow": "TensorFlow",
}
_HOW = {
    "random": "random.seed(SEED)",
    "numpy": "np.random.seed(SEED) (or draw from np.random.default_rng(SEED))",
    "torch": "torch.manual_seed(SEED)",
    "tensorflow": "tf.random.set_seed(SEED)",
}

#: libraries whose presence makes a file's random draws part of an ML experiment
_DATA_LIBS = (
    "numpy",
    "pandas",
    "torch",
    "tensorflow",
    "sklearn",
    "keras",
    "jax",
    "PIL",
    "cv2",
    "torchvision",
    "albumentations",
    "transformers",
    "datasets",
    "xgboost",
    "lightgbm",
)

#: libraries that make NumPy's random draws part of an ML experiment
_ML_CONTEXT = tuple(lib for lib in _DATA_LIBS if lib != "numpy")

_PY_RANDOM = words(
    """
    random randint randrange choice choices shuffle sample uniform gauss normalvariate
    betavariate expovariate triangular getrandbits lognormvariate vonmisesvariate
    gammavariate paretovariate weibullvariate
    """
)
_NP_NOT_DRAW = words(
    """
    seed default_rng RandomState Generator SeedSequence get_state set_state PCG64
    PCG64DXSM MT19937 Philox SFC64 BitGenerator bit_generator
    """
)
_TORCH_DRAW = words(
    """
    rand randn randint randperm rand_like randn_like randint_like normal bernoulli
    multinomial poisson
    """
)
#: exact seed calls -> the generators they seed
_SEEDS: dict[str, tuple[str, ...]] = {
    "random.seed": ("random",),
    "numpy.random.seed": ("numpy",),
    "torch.manual_seed": ("torch",),
    "torch.random.manual_seed": ("torch",),
    "torch.cuda.manual_seed": ("torch",),
    "torch.cuda.manual_seed_all": ("torch",),
    "tensorflow.random.set_seed": ("tensorflow",),
    "tensorflow.set_random_seed": ("tensorflow",),
    "tensorflow.compat.v1.set_random_seed": ("tensorflow",),
    "tensorflow.random.set_random_seed": ("tensorflow",),
}
#: a project's own helper (set_seed, init_seeds, seed_everything, fix_random_seed, ...)
_SEED_HELPER = re.compile(r"(^|_)seeds?($|_)|^seed", re.IGNORECASE)

#: sklearn callables that draw from NumPy's global generator unless given random_state
_SK_ALWAYS = words(
    """
    train_test_split ShuffleSplit StratifiedShuffleSplit GroupShuffleSplit RepeatedKFold
    RepeatedStratifiedKFold RandomForestClassifier RandomForestRegressor
    ExtraTreesClassifier ExtraTreesRegressor GradientBoostingClassifier
    GradientBoostingRegressor DecisionTreeClassifier DecisionTreeRegressor
    AdaBoostClassifier AdaBoostRegressor BaggingClassifier BaggingRegressor
    IsolationForest SGDClassifier SGDRegressor MLPClassifier MLPRegressor KMeans
    MiniBatchKMeans TSNE RandomizedSearchCV Perceptron make_classification make_regression
    make_blobs make_moons make_circles resample shuffle
    """
)
_SK_IF_SHUFFLE = frozenset({"KFold", "StratifiedKFold", "StratifiedGroupKFold"})


@dataclass
class _Draws:
    """One module's uses of random generators."""

    #: library -> calls drawing from its global generator
    uses: dict[str, list[ast.Call]] = field(default_factory=dict)
    #: sklearn calls without random_state (controlled only by NumPy's global seed)
    sklearn: list[ast.Call] = field(default_factory=list)
    #: generators created without a seed: never controlled by a global seed
    unseeded: list[tuple[ast.Call, str]] = field(default_factory=list)
    #: library -> seed calls found here ("*" for a helper that seeds everything)
    seeds: dict[str, list[ast.Call]] = field(default_factory=dict)


def _sklearn_draw(m: Module, call: ast.Call, name: str) -> bool:
    cls = last(name)
    if not (name.startswith("sklearn.") or (name == cls and m.imports_any("sklearn"))):
        return False
    if has_kwarg(call, "random_state"):
        return False
    if cls == "train_test_split" or (cls == "shuffle" and name.startswith("sklearn.utils")):
        return not is_const(kwarg(call, "shuffle"), False)
    if cls in _SK_IF_SHUFFLE:
        return is_const(kwarg(call, "shuffle"), True)
    if cls == "SVC":
        return is_const(kwarg(call, "probability"), True)
    return cls in _SK_ALWAYS and cls not in ("shuffle",)


def _draws(m: Module) -> _Draws:
    d = _Draws()
    # Python's random also makes retry jitter, temporary names and coin-flip demos; only
    # in files that handle data or models is it the randomness of an experiment
    has_random = "random" in m.imports and m.imports_any(*_DATA_LIBS)
    for call, name in calls(m):
        head, _, rest = name.partition(".")
        cls = last(name)
        if name in _SEEDS:
            for lib in _SEEDS[name]:
                d.seeds.setdefault(lib, []).append(call)
            continue
        if _is_seed_helper(m, call, cls):
            d.seeds.setdefault("*", []).append(call)
            continue
        if head == "random" and has_random and rest in _PY_RANDOM:
            d.uses.setdefault("random", []).append(call)
        elif name in ("random.Random", "numpy.random.default_rng", "numpy.random.RandomState"):
            if not call.args and not call.keywords:
                d.unseeded.append((call, name))
        elif name.startswith("numpy.random.") and cls not in _NP_NOT_DRAW:
            d.uses.setdefault("numpy", []).append(call)
        elif head == "torch" and (
            (rest in _TORCH_DRAW)
            or (cls in ("random_split", "DataLoader") and _torch_draw(cls, call))
        ):
            d.uses.setdefault("torch", []).append(call)
        elif name.startswith("tensorflow.random.") and cls not in ("set_seed", "Generator"):
            d.uses.setdefault("tensorflow", []).append(call)
        elif _sklearn_draw(m, call, name):
            d.sklearn.append(call)
    if m.imports_any("torch"):
        for call in m.nodes(ast.Call):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
                d.uses.setdefault("torch", []).append(call)  # weights start random
                break
    return d


def _is_seed_helper(m: Module, call: ast.Call, cls: str) -> bool:
    """``set_seed(42)``, ``utils.init_seeds()``, ``pl.seed_everything(1)``; not ``env.seed(1)``."""
    if not _SEED_HELPER.search(cls) or cls.lower().startswith("get") or cls == "SeedSequence":
        return False
    if isinstance(call.func, ast.Name) or cls != "seed":
        return True
    # obj.seed(...) seeds that object (a gym environment); module.seed(...) a library
    root = call.func.value if isinstance(call.func, ast.Attribute) else None
    return isinstance(root, ast.Name) and root.id in m.aliases


def _torch_draw(cls: str, call: ast.Call) -> bool:
    """random_split without a generator; a shuffling DataLoader without a generator."""
    if has_kwarg(call, "generator"):
        return False
    if cls == "random_split":
        return len(call.args) < 3
    return is_const(kwarg(call, "shuffle"), True)


def _seeded(seeded: dict[str, list[tuple[Module, ast.Call]]], lib: str) -> bool:
    return bool(seeded.get(lib) or seeded.get("*"))


def _hit_lines(nodes: list[ast.Call]) -> str:
    return f" ({len(nodes)} draws in this file)" if len(nodes) > 1 else ""


@rule(
    code="SML014",
    name="randomness-uncontrolled",
    title="Random seeds are set",
    severity="medium",
    practices=("smell-14", "mts-infra-1"),
    scope="code",
)
def randomness_uncontrolled(facts: Facts) -> Outcome:
    """## What it finds
    Code that draws random numbers with nothing fixing the seed:

    - Python's `random` (in files that also use NumPy, pandas or an ML library: elsewhere
      it makes retry jitter and temporary names), NumPy's global `np.random.*` (in a
      notebook that also uses a data or ML library, or in a repository whose modules do:
      plots and simulations draw from it too), PyTorch
      (`torch.rand*`, `randperm`, a shuffling `DataLoader` or `random_split` without a
      `generator`, training that initialises weights) or `tf.random.*`, when no seed call
      for that library is made (one finding per file, at the first draw);
    - scikit-learn splitters, stochastic estimators and dataset generators
      (`train_test_split`, `KFold(shuffle=True)`, `RandomForestClassifier`, `KMeans`, ...)
      without `random_state=` when NumPy's global seed is not set either;
    - `np.random.default_rng()`, `np.random.RandomState()` or `random.Random()` created
      without a seed (no global seed controls them).

    Seeds are per process: a notebook must seed itself; for the Python modules, a seed call
    in any of them (an entry point, a `set_seed`/`seed_everything` helper) counts. A call
    to any function named like `set_seed`, `init_seeds` or `seed_everything` seeds every
    library. Test files are skipped: seeding test data belongs to the test suite's fixtures.

    ## Why it matters
    An unseeded split or initialisation gives a different model and different scores on
    every run, so a change cannot be told apart from noise and no result can be
    reproduced (smell-14, Randomness Uncontrolled; ML Test Score infra-1, training is
    reproducible).

    ## Example
    ```python
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    model = RandomForestClassifier(n_estimators=300)
    ```

    ## Instead
    ```python
    SEED = 42
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
    model = RandomForestClassifier(n_estimators=300, random_state=SEED)
    # or once per process: random.seed(SEED); np.random.seed(SEED); torch.manual_seed(SEED)
    ```
    """
    # a draw needs a generator's library (or sklearn's random_state); a seed helper of the
    # project's own is named so: other modules are never parsed
    mods = parsed(facts, *LIBS, *_ML_LIBS, "sklearn", "jax", words=("seed",))
    draws = {m.path: _draws(m) for m in mods}
    package_seeds: dict[str, list[tuple[Module, ast.Call]]] = {}
    for m in mods:
        if not m.is_notebook:
            for lib, found in draws[m.path].seeds.items():
                package_seeds.setdefault(lib, []).extend((m, c) for c in found)
    # NumPy's generator drives plots and simulations too: its draws count in a notebook that
    # also uses a data or ML library, and in the modules of a repository that does
    ml_program = any(m.imports_any(*_ML_CONTEXT) for m in mods if not m.is_notebook)
    hits: list[Hit] = []
    evidence: list[Evidence] = []
    used = False
    for m in mods:
        d = draws[m.path]
        if not (m.imports_any(*_ML_CONTEXT) or (ml_program and not m.is_notebook)):
            d.uses.pop("numpy", None)
            d.unseeded = [(c, n) for c, n in d.unseeded if not n.startswith("numpy.")]
        if m.is_notebook:
            seeded = {lib: [(m, c) for c in found] for lib, found in d.seeds.items()}
        else:
            seeded = package_seeds

        for call, name in d.unseeded:
            used = True
            hits.append(
                hit(
                    m,
                    call,
                    f"{name.replace('numpy', 'np')}() without a seed gives "
                    "different numbers on every run: pass a seed",
                )
            )
        unseeded = [lib for lib in LIBS if d.uses.get(lib) and not _seeded(seeded, lib)]
        used = used or any(d.uses.values())
        if unseeded:
            # one finding per file: the fix is one seed line per library at the entry point
            drawn = sorted((c for lib in unseeded for c in d.uses[lib]), key=line_of)
            names = " and ".join(_SHOWN[lib] for lib in unseeded)
            hows = "; ".join(_HOW[lib] for lib in unseeded)
            hits.append(
                hit(
                    m,
                    drawn[0],
                    f"random numbers from {names}{_hit_lines(drawn)} with no seed set: "
                    f"call {hows} once per run",
                )
            )
        if d.sklearn:
            used = True
            if not _seeded(seeded, "numpy"):
                for call in d.sklearn:
                    hits.append(
                        hit(
                            m,
                            call,
                            f"{last(m.qualname(call.func))}(...) without "
                            "random_state= and no NumPy seed: pass random_state=SEED",
                        )
                    )
    for lib, seeds in package_seeds.items():
        mod, call = seeds[0]
        shown = "all generators (seed helper)" if lib == "*" else _SHOWN[lib]
        evidence.append(
            Evidence(
                f"seed for {shown}: {mod.line(call.lineno).strip()}",
                Strength.PRESENT,
                mod.path,
                call.lineno,
            )
        )
    for m in mods:
        if m.is_notebook and draws[m.path].seeds:
            call = next(iter(draws[m.path].seeds.values()))[0]
            evidence.append(
                Evidence(
                    f"notebook seeds at {m.where(call.lineno)}",
                    Strength.PRESENT,
                    m.path,
                    call.lineno,
                )
            )
    if not used and not hits:
        if evidence:
            return Outcome.passed(*evidence[:5], note="seeds set; no unseeded random draws found")
        return Outcome.not_applicable("no random number generation found outside tests")
    return Outcome.from_hits(
        hits, evidence=evidence[:5], note=f"{len(mods)} file(s) checked for random draws and seeds"
    )
