"""Cases for DAT rules: data validation, schemas, data quality, bias, privacy, labelling."""

from rulecases import Case

from repo_builder import notebook

LOAD = 'import pandas as pd\ndf = pd.read_csv("data.csv")\n'
SK_TRAIN = LOAD + (
    "from sklearn.ensemble import RandomForestClassifier\n"
    "RandomForestClassifier().fit(df.drop(columns='y'), df.y)\n"
)
PANDERA = """\
import pandas as pd
import pandera as pa

schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.ge(0))})


def load():
    return schema.validate(pd.read_csv("data.csv"))
"""
GE_TEST = {
    "tests/data/conftest.py": "import great_expectations as ge\nimport pytest\n\n@pytest.fixture\n"
    "def df():\n    return ge.dataset.PandasDataset(None)\n",
    "tests/data/test_dataset.py": "def test_dataset(df):\n"
    "    df.expect_column_values_to_not_be_null(column='tag')\n",
}
PERSONAL = "[tool.steward.context]\npersonal_data = true\n"
CI_PR = """\
on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: {cmd}
"""

CASES = [
    # -- DAT001 data-validation
    Case("DAT001", "passed", {"load.py": PANDERA, "train.py": SK_TRAIN}, id="pandera"),
    Case(
        "DAT001",
        "failed",
        {
            "train.py": SK_TRAIN
            + "from mlsteward.tracking.validation import check_key\ncheck_key('loss', 'metric')\n"
        },
        id="mlsteward-names-that-are-not-data-validation",
    ),
    Case("DAT001", "passed", {**GE_TEST, "train.py": SK_TRAIN}, id="great-expectations-in-tests"),
    Case(
        "DAT001",
        "passed",
        {
            "load.py": LOAD
            + "from pydantic import BaseModel\n\nclass Row(BaseModel):\n    age: int\n\n"
            "rows = [Row.model_validate(r) for r in df.to_dict('records')]\n"
        },
        id="pydantic-records",
    ),
    Case(
        "DAT001",
        "failed",
        {
            "mock.py": "import pandera as pa\n\nclass Mock(pa.DataFrameModel):\n    a: int\n\n"
            "df = Mock.example(size=3)\n",
            "train.py": SK_TRAIN,
        },
        id="pandera-for-mock-data-only",
    ),
    Case(
        "DAT001",
        "partial",
        {"train.py": SK_TRAIN + "assert df['y'].notna().all()\n"},
        id="hand-written-assert",
    ),
    Case(
        "DAT001",
        "failed",
        {"train.py": SK_TRAIN + "import sys\nassert len(sys.argv) > 1\n"},
        id="argv-assert-is-not-a-data-check",
        lines=(("train.py", 2),),
    ),
    Case("DAT001", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- DAT002 data-schema
    Case("DAT002", "passed", {"load.py": PANDERA}, id="pandera-schema"),
    Case(
        "DAT002",
        "passed",
        {
            "train.py": SK_TRAIN,
            "gx/expectations/train.json": '{"expectation_suite_name": "train", "expectations": []}',
        },
        id="ge-suite",
    ),
    Case(
        "DAT002",
        "passed",
        {"train.py": SK_TRAIN, "data/schema.pbtxt": 'feature { name: "age" type: INT }\n'},
        id="tfdv-schema",
    ),
    Case("DAT002", "passed", {**GE_TEST, "train.py": SK_TRAIN}, id="expectations-in-code"),
    Case(
        "DAT002",
        "passed",
        {
            "train.py": SK_TRAIN,
            "data/train.schema.yaml": "columns:\n  age: {type: int, min: 0}\n",
        },
        id="schema-yaml",
    ),
    Case("DAT002", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 2),)),
    Case(
        "DAT002",
        "failed",
        {"train.py": SK_TRAIN, ".github/workflow-schema.json": '{"properties": {}}'},
        id="ci-schema-is-not-data",
    ),
    Case("DAT002", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- DAT003 data-validation-automated
    Case(
        "DAT003",
        "passed",
        {
            "load.py": PANDERA,
            ".github/workflows/ci.yml": CI_PR.format(cmd="python validate_data.py"),
        },
        id="ci-data-validation",
    ),
    Case(
        "DAT003",
        "passed",
        {**GE_TEST, "train.py": SK_TRAIN, ".github/workflows/ci.yml": CI_PR.format(cmd="pytest")},
        id="ci-runs-data-tests",
    ),
    Case(
        "DAT003",
        "passed",
        {
            "load.py": PANDERA,
            "train.py": SK_TRAIN,
            "dvc.yaml": "stages:\n  validate:\n    cmd: python load.py\n  train:\n"
            "    cmd: python train.py\n",
        },
        id="dvc-validation-stage",
    ),
    Case(
        "DAT003",
        "passed",
        {
            "pkg/__init__.py": "",
            "pkg/load.py": PANDERA,
            "pkg/train.py": "from pkg.load import load\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "df = load()\nLogisticRegression().fit(df, df.y)\n",
        },
        id="training-validates",
    ),
    Case(
        "DAT003",
        "partial",
        {
            **GE_TEST,
            "train.py": SK_TRAIN,
            ".github/workflows/ci.yml": CI_PR.format(cmd="pytest tests/code"),
        },
        id="ci-skips-data-tests",
    ),
    Case("DAT003", "failed", {"train.py": SK_TRAIN}),
    Case("DAT003", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- DAT004 data-balance-checked
    Case(
        "DAT004",
        "passed",
        {
            "eda.ipynb": notebook(
                LOAD, "df.isna().mean()", "df.y.value_counts(normalize=True)", "df.describe()"
            ),
            "train.py": SK_TRAIN,
        },
        id="notebook-eda",
    ),
    Case(
        "DAT004",
        "passed",
        {
            "train.py": SK_TRAIN,
            "eda.py": "from ydata_profiling import ProfileReport\nProfileReport(df)\n",
        },
        id="profiler",
    ),
    Case(
        "DAT004",
        "partial",
        {
            "train.py": SK_TRAIN + "from sklearn.model_selection import train_test_split\n"
            "train_test_split(df, stratify=df.y)\n"
        },
        id="stratified-only",
    ),
    Case("DAT004", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 2),)),
    Case(
        "DAT004",
        "failed",
        {
            "train.py": SK_TRAIN,
            "errors.py": "def describe(exc):\n    return str(exc)\n\ndescribe(ValueError())\n",
        },
        id="a-function-named-describe-is-not-eda",
    ),
    Case(
        "DAT004",
        "failed",
        {
            "train.py": SK_TRAIN + "from sklearn.model_selection import train_test_split\n"
            "train_test_split(df, stratify=None)\n"
        },
        id="stratify-none",
    ),
    Case("DAT004", "not_applicable", {"app.py": "print('hi')\n"}),
    # -- DAT005 data-bias-tested
    Case(
        "DAT005",
        "passed",
        {
            "train.py": SK_TRAIN + "print(df.groupby('gender').y.mean())\n",
            "pyproject.toml": PERSONAL,
        },
        id="groupby-gender",
    ),
    Case(
        "DAT005",
        "passed",
        {
            "bias.py": "from aif360.metrics import BinaryLabelDatasetMetric\n",
            "train.py": SK_TRAIN,
            "pyproject.toml": PERSONAL,
        },
        id="aif360",
    ),
    Case(
        "DAT005",
        "partial",
        {
            "train.py": SK_TRAIN,
            "docs/datasheet.md": "# Datasheet\nSensitive: gender\n",
            "pyproject.toml": PERSONAL,
        },
        id="datasheet-only",
    ),
    Case(
        "DAT005",
        "failed",
        {
            "train.py": SK_TRAIN + "print(df.groupby('region').y.mean())\n",
            "pyproject.toml": PERSONAL,
        },
        id="groupby-not-protected",
    ),
    Case("DAT005", "not_applicable", {"train.py": SK_TRAIN}, id="no-personal-data"),
    # -- DAT006 privacy-techniques
    Case(
        "DAT006",
        "passed",
        {"train.py": SK_TRAIN + "from opacus import PrivacyEngine\n"},
        context={"personal_data": True},
        id="opacus",
    ),
    Case(
        "DAT006",
        "passed",
        {"scrub.py": "from presidio_analyzer import AnalyzerEngine\n", "train.py": SK_TRAIN},
        context={"personal_data": True},
        id="presidio",
    ),
    Case("DAT006", "failed", {"train.py": SK_TRAIN}, context={"personal_data": True}),
    Case("DAT006", "not_applicable", {"train.py": SK_TRAIN}),
    # -- DAT007 labelling-controlled
    Case(
        "DAT007",
        "passed",
        {"agree.py": "from sklearn.metrics import cohen_kappa_score\ncohen_kappa_score(a, b)\n"},
        id="kappa",
    ),
    Case(
        "DAT007",
        "passed",
        {"train.py": SK_TRAIN, "docs/labeling-guidelines.md": "# How to label\n"},
        id="guideline-doc",
    ),
    Case(
        "DAT007",
        "passed",
        {
            "train.py": SK_TRAIN,
            "labeling/config.xml": '<View><Choices name="c" toName="t"/></View>',
        },
        id="label-studio-config",
    ),
    Case(
        "DAT007",
        "failed",
        {"train.py": SK_TRAIN, "pyproject.toml": "[tool.steward.context]\nlabels = true\n"},
        id="labels-declared",
    ),
    Case("DAT007", "unknown", {"train.py": SK_TRAIN}, id="labels-may-be-external"),
    Case("DAT007", "not_applicable", {"train.py": SK_TRAIN}, context={"labels": False}),
    # -- DAT008 protected-attributes-excluded
    Case(
        "DAT008",
        "passed",
        {
            "features.py": "PROTECTED_ATTRIBUTES = {'gender', 'age'}\nFEATURES = ['income']\n",
            "tests/test_features.py": "from features import FEATURES, PROTECTED_ATTRIBUTES\n\n"
            "def test_no_protected():\n    assert PROTECTED_ATTRIBUTES.isdisjoint(FEATURES)\n",
            "train.py": SK_TRAIN,
            "pyproject.toml": PERSONAL,
        },
        id="list-and-test",
    ),
    Case(
        "DAT008",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": PERSONAL + "\n[tool.steward.gates.fair]\nprotected = ['gender']\n",
        },
        id="steward-gate",
    ),
    Case(
        "DAT008",
        "partial",
        {
            "train.py": SK_TRAIN,
            "params.yaml": "sensitive_features: [gender, age]\n",
            "pyproject.toml": PERSONAL,
        },
        id="config-list-unchecked",
    ),
    Case("DAT008", "failed", {"train.py": SK_TRAIN, "pyproject.toml": PERSONAL}),
    Case("DAT008", "not_applicable", {"train.py": SK_TRAIN}),
]
