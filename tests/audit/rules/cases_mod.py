"""Cases for MOD rules: model validation before serving."""

from rulecases import Case

from records_builder import gates_toml, registry_store_bytes

SK_TRAIN = """\
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

df = pd.read_csv("data.csv")
model = RandomForestClassifier()
model.fit(df.drop(columns="y"), df.y)
"""
TORCH_TRAIN = """\
import torch

model = torch.nn.Linear(4, 1)
for epoch in range(3):
    model(torch.randn(8, 4)).sum().backward()
"""
EVAL_GATE = """\
import json
import sys

metrics = json.load(open("metrics.json"))
if metrics["accuracy"] < 0.85:
    sys.exit("accuracy below the floor")
"""
PR_CI = """\
on: pull_request
jobs:
  eval:
    runs-on: ubuntu-latest
    steps:
      - run: {cmd}
"""
PERSONAL = "[tool.steward.context]\npersonal_data = true\n"

CASES = [
    # -- MOD001 model-quality-gate
    Case(
        "MOD001", "passed", {"train.py": SK_TRAIN, "evaluate.py": EVAL_GATE}, id="exit-below-floor"
    ),
    Case(
        "MOD001",
        "passed",
        {
            "train.py": SK_TRAIN,
            "tests/model/test_quality.py": "def test_accuracy(model, holdout):\n"
            "    assert model.score(*holdout) >= 0.8\n",
            ".github/workflows/ci.yml": PR_CI.format(cmd="pytest tests/model"),
        },
        id="model-test-in-ci",
    ),
    Case(
        "MOD001",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": "[tool.steward.gates.quality]\nmin_accuracy = 0.85\n",
        },
        id="steward-gate",
    ),
    Case(
        "MOD001",
        "partial",
        {"train.py": SK_TRAIN, ".github/workflows/ci.yml": PR_CI.format(cmd="python evaluate.py")},
        id="ci-evaluates-without-threshold",
    ),
    Case(
        "MOD001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "utils.py": "import torch\n\ndef nms(iou_thres=0.45):\n"
            "    assert 0 <= iou_thres <= 1, 'bad threshold'\n",
        },
        id="argument-range-is-not-a-gate",
        lines=(("train.py", 6),),
    ),
    Case(
        "MOD001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "tests/unit/test_mae.py": "def test_mae():\n    assert 0.02 > mae([1], [1])\n",
        },
        id="unit-test-on-fixture",
    ),
    Case("MOD001", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- MOD002 baseline-compared
    Case(
        "MOD002",
        "passed",
        {
            "train.py": SK_TRAIN
            + "from sklearn.dummy import DummyClassifier\nDummyClassifier().fit(X, y)\n"
        },
        id="dummy",
    ),
    Case(
        "MOD002",
        "passed",
        {
            "train.py": SK_TRAIN + "from sklearn.linear_model import LogisticRegression\n"
            "LogisticRegression().fit(X, y)\n"
        },
        id="linear-beside",
    ),
    Case(
        "MOD002",
        "passed",
        {"train.py": TORCH_TRAIN + "baseline_acc = majority_class_accuracy()\n"},
        id="named-baseline",
    ),
    Case("MOD002", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 5),)),
    Case(
        "MOD002",
        "not_applicable",
        {
            "train.py": "from sklearn.linear_model import LinearRegression\n"
            "LinearRegression().fit(X, y)\n"
        },
        id="already-simple",
    ),
    # -- MOD003 sliced-evaluation
    Case(
        "MOD003",
        "passed",
        {
            "train.py": SK_TRAIN,
            "evaluate.py": "from fairlearn.metrics import MetricFrame\n"
            "MetricFrame(metrics=f1, y_true=y, y_pred=p, sensitive_features=g)\n",
        },
        id="metricframe",
    ),
    Case(
        "MOD003",
        "passed",
        {
            "train.py": SK_TRAIN,
            "evaluate.py": "from sklearn.metrics import f1_score\n\n"
            "for region, part in df.groupby('region'):\n"
            "    print(region, f1_score(part.y, part.pred))\n",
        },
        id="loop-over-groupby",
    ),
    Case(
        "MOD003",
        "passed",
        {
            "train.py": SK_TRAIN,
            "evaluate.py": "from sklearn.metrics import accuracy_score\n\n"
            "for name, mask in slices.items():\n    accuracy_score(y_true[mask], y_pred[mask])\n",
        },
        id="masks",
    ),
    Case(
        "MOD003",
        "failed",
        {
            "train.py": SK_TRAIN,
            "curve.py": "from sklearn.metrics import mean_squared_error\n\n"
            "for m in range(1, 100):\n    mean_squared_error(y[:m], p[:m])\n",
        },
        id="learning-curve-is-not-slicing",
    ),
    Case(
        "MOD003",
        "failed",
        {"train.py": SK_TRAIN + "from sklearn.metrics import f1_score\nf1_score(y, p)\n"},
    ),
    Case("MOD003", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- MOD004 fairness-tested
    Case(
        "MOD004",
        "passed",
        {
            "train.py": SK_TRAIN,
            "fair.py": "from fairlearn.metrics import demographic_parity_difference\n",
            "pyproject.toml": PERSONAL,
        },
        id="fairlearn",
    ),
    Case(
        "MOD004",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": PERSONAL + "\n[tool.steward.gates.fair]\nmax_disparity = 0.1\n",
        },
        id="steward-gate",
    ),
    Case("MOD004", "failed", {"train.py": SK_TRAIN, "pyproject.toml": PERSONAL}),
    Case("MOD004", "not_applicable", {"train.py": SK_TRAIN}, id="no-personal-data"),
    # -- MOD005 feature-importance
    Case(
        "MOD005",
        "passed",
        {
            "train.py": SK_TRAIN + "from sklearn.inspection import permutation_importance\n"
            "permutation_importance(model, X, y)\n"
        },
        id="permutation",
    ),
    Case(
        "MOD005",
        "passed",
        {"train.py": SK_TRAIN + "print(model.feature_importances_)\n"},
        id="impurity",
    ),
    Case("MOD005", "failed", {"train.py": SK_TRAIN}),
    Case("MOD005", "not_applicable", {"train.py": TORCH_TRAIN}, id="networks"),
    Case("MOD005", "not_applicable", {"train.py": SK_TRAIN}, context={"features": False}),
    # -- MOD006 compared-with-production
    Case(
        "MOD006",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": "[tool.steward.gates.promotion]\nmax_regression = 0.01\n",
        },
        id="gate-max-regression",
    ),
    Case(
        "MOD006",
        "passed",
        {
            "train.py": SK_TRAIN,
            "promote.py": "import mlflow\n"
            "champion = mlflow.pyfunc.load_model('models:/fraud@champion')\n"
            "if challenger_auc <= champion_auc:\n    raise SystemExit('worse than production')\n",
        },
        id="champion-challenger",
    ),
    Case(
        "MOD006",
        "partial",
        {
            "train.py": SK_TRAIN,
            ".github/workflows/cml.yml": PR_CI.format(cmd="dvc metrics diff main"),
        },
        id="metrics-diff-report",
    ),
    Case("MOD006", "failed", {"train.py": SK_TRAIN}),
    Case("MOD006", "not_applicable", {"train.py": SK_TRAIN}, profile="poc", id="not-deployed"),
    # -- MOD007 staleness-known
    Case(
        "MOD007",
        "passed",
        {
            "train.py": SK_TRAIN
            + "from sklearn.model_selection import TimeSeriesSplit\nTimeSeriesSplit(5)\n"
        },
        id="time-series-split",
    ),
    Case(
        "MOD007",
        "partial",
        {
            "train.py": SK_TRAIN,
            ".github/workflows/retrain.yml": "on:\n  schedule:\n    - cron: '0 3 * * 1'\n"
            "jobs:\n  retrain:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: python train.py\n",
        },
        id="scheduled-retraining",
    ),
    Case(
        "MOD007",
        "failed",
        {
            "train.py": SK_TRAIN,
            ".github/workflows/ci.yml": "on:\n  schedule:\n    - cron: '0 3 * * 1'\n"
            "jobs:\n  tests:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: pytest\n      - run: python train.py --epochs 1\n",
        },
        id="scheduled-smoke-test-is-not-retraining",
    ),
    Case("MOD007", "not_applicable", {"train.py": SK_TRAIN}, profile="poc"),
    # -- MOD008 reproducibility-tested
    Case(
        "MOD008",
        "passed",
        {
            "train.py": SK_TRAIN,
            "tests/test_repro.py": "import numpy as np\n\ndef test_same_model(data):\n"
            "    a = train(data, seed=0)\n    b = train(data, seed=0)\n"
            "    np.testing.assert_allclose(a.predict(data), b.predict(data))\n",
        },
        id="trains-twice",
    ),
    Case(
        "MOD008",
        "passed",
        {
            "train.py": SK_TRAIN,
            ".github/workflows/ci.yml": PR_CI.format(
                cmd="dvc repro && git diff --exit-code dvc.lock"
            ),
        },
        id="dvc-repro-unchanged",
    ),
    Case(
        "MOD008",
        "failed",
        {
            "train.py": SK_TRAIN,
            "tests/test_ref.py": "import numpy as np\n\ndef test_affinity(data, ref):\n"
            "    m = Model(decay=30)\n    m.fit(data)\n    np.testing.assert_allclose(m.aff, ref)\n"
            "    m = Model(decay=60)\n    m.fit(data)\n"
            "    np.testing.assert_allclose(m.aff, ref)\n",
        },
        id="reference-comparison-is-not-repro",
    ),
    Case("MOD008", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- the registry's records decide MOD001 and feed MOD002-MOD006
    Case(
        "MOD001",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes()},
        },
        id="records-passing-verdict",
    ),
    Case(
        "MOD001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "evaluate.py": EVAL_GATE,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(verdict="none", gated=False)},
        },
        lines=((".steward/steward.db", None), (".steward/steward.db", None)),
        id="records-released-without-verdict",
    ),
    Case(
        "MOD001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(verdict="fail")},
        },
        id="records-failing-verdict",
    ),
    Case(
        "MOD001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(gated=False)},
        },
        lines=((".steward/steward.db", None),),
        id="records-promotion-named-no-verdict",
    ),
    Case(
        "MOD001",
        "partial",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(stale_policy=True)},
        },
        id="records-verdict-for-an-older-policy",
    ),
    Case(
        "MOD003",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes()},
        },
        id="records-slices-check",
    ),
    Case(
        "MOD004",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes()},
        },
        id="records-fairness-check",
        context={"personal_data": True},
    ),
    Case(
        "MOD004",
        "failed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(verdict="fail")},
        },
        id="records-failed-verdict-proves-nothing",
        context={"personal_data": True},
    ),
]
