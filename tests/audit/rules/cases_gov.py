"""Cases for GOV rules: cards, values, risks, explanations, concerns, audit trail, audits."""

from dataclasses import replace

from rulecases import Case

from records_builder import gates_toml, registry_store_bytes, store_bytes

MODELS = """
[tool.steward.models.churn]
intended_use = "Ranking accounts for retention calls."
limitations = "Trained on EU customers only."
"""

MODEL_CARD = """\
# Model card: churn v7

## Intended use
Ranking accounts for retention calls. Not for pricing.

## Limitations
Trained on 2023 EU customers only.

## Contact
ml-team@example.com
"""

HF_CARD = """\
---
license: apache-2.0
pipeline_tag: text-classification
model-index:
  - name: tagger
---
# tagger

## Uses
### Direct Use
Tagging ML project descriptions.

## Bias, Risks, and Limitations
English only.
"""

HF_CARD_NO_SECTIONS = """\
---
library_name: transformers
---
# tagger

Fine-tuned from bert-base.
"""

DATASET_CARD = """\
---
task_categories: [text-classification]
size_categories: [1K<n<10K]
---
# projects

## Annotation process
Two annotators per record.
"""

APP = """\
from fastapi import FastAPI
app = FastAPI()

@app.post("/predict")
def predict(x: float):
    return {"y": x * 2}
"""

EXPLAINING_APP = """\
import shap
from fastapi import FastAPI
app = FastAPI()
explainer = shap.Explainer(lambda v: v)

@app.post("/predict")
def predict(x: float):
    return {"y": x * 2, "explanation": explainer([[x]]).values.tolist()}
"""

VERSIONED_APP = """\
from fastapi import FastAPI
app = FastAPI()
MODEL_VERSION = "7"

@app.post("/predict")
def predict(x: float):
    return {"y": x * 2, "model_version": MODEL_VERSION}
"""

MLFLOW_TRAIN = """\
import mlflow

def train(df, model):
    with mlflow.start_run():
        mlflow.log_input(mlflow.data.from_pandas(df), context="training")
        model.fit(df)
        mlflow.sklearn.log_model(model, "model", registered_model_name="churn")
"""

ISVC_EXPLAINER = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: m}
spec:
  predictor: {model: {modelFormat: {name: sklearn}}}
  explainer: {alibi: {type: AnchorTabular}}
"""

DVC_ARTIFACTS = """\
artifacts:
  text-classification:
    path: model.pkl
    type: model
stages: {}
"""

GRADIO_DISCLOSED = """\
import gradio as gr
gr.Interface(fn=f, description="Predicted by a machine-learning model")
"""

GRADIO_SILENT = """\
import gradio as gr
# Made with ML course
gr.Interface(fn=f, title="Food")
"""

CASES = [
    # GOV001 model card
    Case("GOV001", "passed", {"MODEL_CARD.md": MODEL_CARD}),
    Case("GOV001", "passed", {"models": {"tagger": {"README.md": HF_CARD}}}, id="hugging-face"),
    Case(
        "GOV001",
        "passed",
        {"README.md": "# churn\n## Intended use\nx\n## Limitations\ny\n"},
        id="readme-as-card",
    ),
    Case("GOV001", "partial", {"README.md": HF_CARD_NO_SECTIONS}, id="card-without-sections"),
    Case("GOV001", "failed", {"README.md": "# churn\nTrain with `python train.py`.\n"}),
    Case("GOV001", "not_applicable", {"README.md": "# x\n"}, context={"users": False}),
    # GOV002 datasheet
    Case(
        "GOV002",
        "passed",
        {"docs": {"DATASHEET.md": "# Datasheet\n## Labelling\ntwo annotators\n"}},
    ),
    Case(
        "GOV002",
        "passed",
        {"data": {"projects": {"README.md": DATASET_CARD}}},
        id="hf-dataset-card",
    ),
    Case(
        "GOV002",
        "partial",
        {"data": {"README.md": "# Data\nExported from the CRM.\n"}},
        id="data-readme",
    ),
    Case("GOV002", "failed", {"README.md": "# x\n"}),
    # GOV003 responsible-AI values
    Case("GOV003", "passed", {"RESPONSIBLE_AI.md": "# Our principles\nFairness, transparency.\n"}),
    Case(
        "GOV003", "passed", {"README.md": "# x\n## Ethical considerations\nWe ...\n"}, id="section"
    ),
    Case(
        "GOV003",
        "failed",
        {"README.md": "# x\n", "CODE_OF_CONDUCT.md": "# Contributor Covenant\nBe kind.\n"},
    ),
    # GOV004 risk assessment
    Case(
        "GOV004",
        "passed",
        {"docs": {"risk-assessment.md": "# Risk assessment (2024-03-01)\n| risk | impact |\n"}},
    ),
    Case("GOV004", "passed", {"docs": {"dpia.pdf": b"%PDF-1.4 binary"}}, id="dpia-pdf"),
    Case("GOV004", "partial", {"MODEL_CARD.md": HF_CARD}, id="card-risks-section"),
    Case("GOV004", "failed", {"README.md": "# x\n"}),
    Case("GOV004", "failed", {"docs": {"risk_register.csv": "risk,impact\n"}}, id="not-a-document"),
    # GOV005 explanations
    Case("GOV005", "passed", {"app.py": EXPLAINING_APP}),
    Case(
        "GOV005",
        "passed",
        {"k8s": {"isvc.yaml": ISVC_EXPLAINER}},
        id="kserve-explainer",
    ),
    Case("GOV005", "partial", {"app.py": APP, "analysis.py": "import shap\n"}, id="offline-only"),
    Case("GOV005", "failed", {"app.py": APP}, lines=(("app.py", 5),)),
    Case("GOV005", "unknown", {"train.py": "x = 1\n"}),
    # GOV006 concern channel
    Case("GOV006", "passed", {"SECURITY.md": "Report to security@example.com\n"}),
    Case("GOV006", "passed", {"MODEL_CARD.md": MODEL_CARD}, id="card-contact"),
    Case(
        "GOV006",
        "passed",
        {
            ".github": {
                "ISSUE_TEMPLATE": {"model-concern.yml": "name: Fairness or safety concern\n"}
            }
        },
        id="concern-template",
    ),
    Case(
        "GOV006",
        "partial",
        {".github": {"ISSUE_TEMPLATE": {"bug.md": "# Bug\n"}}},
        id="public-tracker",
    ),
    Case(
        "GOV006",
        "partial",
        {
            ".github": {
                "ISSUE_TEMPLATE": {"q.md": "---\nname: Question\n---\nRaise concerns here.\n"}
            }
        },
        id="concern-in-body-only",
    ),
    Case("GOV006", "failed", {"README.md": "# x\n"}),
    # GOV007 audit trail
    Case("GOV007", "passed", {"train.py": MLFLOW_TRAIN}),
    Case("GOV007", "partial", {"train.py": "import wandb\nwandb.init()\n"}, id="runs-only"),
    Case(
        "GOV007",
        "partial",
        {"dvc.yaml": "stages: {}\n", "dvc.lock": "schema: '2.0'\n", "train.py": "import mlflow\n"},
        id="dvc-and-runs",
    ),
    Case("GOV007", "failed", {"train.py": "import pickle\n"}),
    Case(
        "GOV007",
        "partial",
        {"train.py": "import pickle\n", ".steward": {"steward.db": store_bytes()}},
        id="records-runs-and-data-no-registry",
    ),
    Case(
        "GOV007",
        "passed",
        {
            "dvc.yaml": DVC_ARTIFACTS,
            "dvc.lock": "schema: '2.0'\n",
            "src": {"evaluate.py": "import dvclive\n"},
        },
        id="dvc-model-registry",
    ),
    # GOV008 audit report
    Case("GOV008", "passed", {"docs": {"audits": {"2024-external.pdf": b"%PDF"}}}),
    Case(
        "GOV008",
        "passed",
        {"docs": {"third-party-audit-report.md": "# Audit report, May 2024\n"}},
        id="report-md",
    ),
    Case(
        "GOV008",
        "failed",
        {"docs": {"audit.md": "# steward audit\nHow to run the audit command.\n"}},
        id="tool-manual-is-not-a-report",
    ),
    # GOV009 fairness and privacy (personal data)
    Case(
        "GOV009",
        "passed",
        {
            "tests": {"test_fair.py": "from fairlearn.metrics import MetricFrame\n"},
            "docs": {"DPIA.md": "# DPIA\n"},
        },
        context={"personal_data": True},
    ),
    Case(
        "GOV009",
        "partial",
        {"eval.py": "import fairlearn\n"},
        context={"personal_data": True},
        id="fairness-only",
    ),
    Case("GOV009", "failed", {"train.py": "x = 1\n"}, context={"personal_data": True}),
    Case("GOV009", "not_applicable", {"train.py": "x = 1\n"}),
    # GOV010 ML use disclosed
    Case("GOV010", "passed", {"app.py": VERSIONED_APP}),
    Case(
        "GOV010",
        "passed",
        {
            "templates": {
                "result.html": "<p>This score was generated by a machine-learning model.</p>\n"
            },
            "app.py": APP,
        },
        id="ui-text",
    ),
    Case(
        "GOV010",
        "passed",
        {"demo.py": GRADIO_DISCLOSED},
        id="gradio-text",
    ),
    Case(
        "GOV010",
        "failed",
        {"demo.py": GRADIO_SILENT},
        id="comment-is-not-ui-text",
    ),
    Case("GOV010", "failed", {"app.py": APP}),
    Case("GOV010", "unknown", {"train.py": "x = 1\n"}),
]

# These rules concern a model's repository: the fixtures above are that, said outright
# (the derivation of `model` from the code is pinned by the cases below).
CASES = [
    replace(c, context={"model": True, **c.context}) if "model" not in c.context else c
    for c in CASES
]
CASES += [
    Case(
        "GOV001",
        "not_applicable",
        {"README.md": "# a web library\n", "lib.py": "import json\n"},
        id="no-model-in-repo",
    ),
    Case("GOV003", "not_applicable", {"cli.py": "import argparse\n"}, id="no-model-in-repo"),
    Case("GOV003", "failed", {"train.py": "import sklearn\n"}, id="model-derived-from-code"),
    Case(
        "GOV004",
        "failed",
        {"model.onnx": b"\x08\x01", "README.md": "# x\n"},
        id="model-derived-from-weights",
    ),
    # -- cards and provenance from mlsteward's records
    Case(
        "GOV001",
        "passed",
        {
            "pyproject.toml": gates_toml(models=MODELS),
            ".steward": {"steward.db": registry_store_bytes()},
        },
        id="records-card-and-declared-use",
    ),
    Case(
        "GOV001",
        "partial",
        {
            "pyproject.toml": gates_toml(models=MODELS),
            ".steward": {"steward.db": registry_store_bytes(card=False)},
        },
        id="records-no-card-for-the-release",
    ),
    Case(
        "GOV001",
        "partial",
        {"pyproject.toml": gates_toml(), ".steward": {"steward.db": registry_store_bytes()}},
        id="records-card-without-declared-use",
    ),
    Case(
        "GOV007",
        "passed",
        {"pyproject.toml": gates_toml(), ".steward": {"steward.db": registry_store_bytes()}},
        id="records-release-with-provenance",
    ),
    Case(
        "GOV007",
        "failed",
        {
            "train.py": MLFLOW_TRAIN,
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(provenance=False)},
        },
        lines=((".steward/steward.db", None),),
        id="records-forced-release",
    ),
]
