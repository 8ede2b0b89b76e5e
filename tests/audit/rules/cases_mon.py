"""Cases for MON rules: metrics, prediction logs, drift, input schemas, numerics, alerts."""

from rulecases import Case

from repo_builder import notebook

RAW_APP = """\
from fastapi import FastAPI, Request

app = FastAPI()

@app.post("/predict")
async def predict(request: Request):
    data = await request.json()
    return {"y": data["x"] * 2}
"""

TYPED_APP = """\
import logging
from fastapi import FastAPI
from pydantic import BaseModel
from prometheus_fastapi_instrumentator import Instrumentator

log = logging.getLogger(__name__)
MODEL_VERSION = "7"
app = FastAPI()
Instrumentator().instrument(app).expose(app)

class Features(BaseModel):
    x: float

@app.post("/predict")
def predict(features: Features):
    y = features.x * 2
    record = {"model_version": MODEL_VERSION, "inputs": features.model_dump(), "y": y}
    log.info("prediction", extra=record)
    return {"y": y}
"""

LOG_NO_VERSION_APP = """\
import logging
from fastapi import FastAPI, Request

logger = logging.getLogger(__name__)
app = FastAPI()

@app.post("/predict")
async def predict(request: Request):
    payload = await request.json()
    y = payload["x"] * 2
    logger.info("input %s -> %s", payload, y)
    return {"y": y}
"""

HELPER_LOG_APP = """\
from flask import Flask, request
from marshmallow import Schema, fields

app = Flask(__name__)

class InputSchema(Schema):
    x = fields.Float(required=True)

def record(features, y):
    store.log_prediction({"model_version": VERSION, "input": features, "y": y})

@app.route("/predict", methods=["POST"])
def predict():
    features = InputSchema().load(request.json)
    y = features["x"] * 2
    record(features, y)
    return {"y": y}
"""

MANUAL_CHECK_APP = """\
from flask import Flask, request

app = Flask(__name__)

@app.route("/predict", methods=["POST"])
def predict():
    if "x" not in request.json:
        return {"error": "x is required"}, 400
    return {"y": request.json["x"] * 2}
"""

ISVC_LOGGER = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    logger: {mode: all, url: http://broker}
    model: {modelFormat: {name: sklearn}, storageUri: s3://m/v1}
"""

DRIFT_JOB = """\
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

def check_drift(reference: pd.DataFrame, current: pd.DataFrame):
    return Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
"""

KS_JOB = """\
from scipy.stats import ks_2samp

def feature_drift(train, live):
    return {c: ks_2samp(train[c], live[c]).pvalue for c in train.columns}
"""

SCHEDULED_DRIFT = """\
on:
  schedule: [{cron: "0 6 * * *"}]
jobs:
  drift:
    runs-on: ubuntu-latest
    steps:
      - run: python monitoring/drift.py
"""

TORCH_TRAIN = """\
import torch

def train(model, batches, opt):
    for x, y in batches:
        loss = torch.nn.functional.mse_loss(model(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError("loss is not finite")
        loss.backward()
        opt.step()
"""

TORCH_TRAIN_UNCHECKED = """\
import torch

def train(model, batches, opt):
    for x, y in batches:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
"""

TORCH_DATA_NAN = """\
import numpy as np
import torch

def clean(values):
    return [0.0 if np.isnan(v) else v for v in values]

def fill(df):
    if np.isnan(df.age).any():
        df.age = df.age.fillna(0)
"""

TORCH_TEST = """\
import torch
from model import Net

def test_outputs_finite():
    out = Net()(torch.zeros(1, 3))
    assert torch.isfinite(out).all()
"""

SCHEDULED_TRAIN = """\
on:
  schedule: [{cron: "0 3 * * 1"}]
jobs:
  retrain:
    runs-on: ubuntu-latest
    steps:
      - run: python train.py
"""

TEST_WORKFLOW_TRAINS = """\
on:
  push:
  pull_request:
  schedule: [{cron: "0 0 * * *"}]
jobs:
  tests:
    runs-on: ubuntu-latest
    steps:
      - run: python train.py --epochs 1
"""

AIRFLOW_DAG = """\
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("retrain", schedule="@weekly") as dag:
    BashOperator(task_id="train", bash_command="python train.py")
"""

QUALITY_JOB = """\
import pandas as pd
from sklearn.metrics import f1_score

def weekly_quality(predictions: pd.DataFrame, labels: pd.DataFrame) -> float:
    served = predictions.merge(labels, on="request_id")
    return f1_score(served.label, served.prediction)
"""

ALERT_RULES = """\
groups:
  - name: model
    rules:
      - alert: ModelErrorRateHigh
        expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05
        for: 10m
"""

SLACK_ALERT = """\
import requests
from evidently import Report

def notify(text):
    requests.post("https://hooks.slack.com/services/T000/B000/XXX", json={"text": text})
"""

SERVICE_MONITOR = """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: model
spec:
  endpoints: [{port: http}]
"""

LOCKFILE_DRIFT = """\
on: [push]
jobs:
  frontend:
    runs-on: ubuntu-latest
    steps:
      - name: Check for toolchain drift
        run: node scripts/check-lockfile-drift.mjs
"""

CASES = [
    # MON001 metrics
    Case("MON001", "passed", {"app.py": TYPED_APP}),
    Case(
        "MON001",
        "passed",
        {"app.py": RAW_APP, "k8s": {"sm.yaml": SERVICE_MONITOR}},
        id="service-monitor",
    ),
    Case(
        "MON001",
        "partial",
        {"app.py": RAW_APP, "train.py": "from prometheus_client import Gauge\n"},
        id="metrics-elsewhere",
    ),
    Case("MON001", "failed", {"app.py": RAW_APP}),
    Case("MON001", "unknown", {"train.py": "x = 1\n"}, id="nothing-served"),
    Case("MON001", "not_applicable", {"app.py": RAW_APP}, context={"deployed": False}),
    # MON002 prediction logs
    Case("MON002", "passed", {"app.py": TYPED_APP}),
    Case("MON002", "passed", {"k8s": {"isvc.yaml": ISVC_LOGGER}}, id="kserve-logger"),
    Case("MON002", "passed", {"app.py": HELPER_LOG_APP}, id="helper-function"),
    Case(
        "MON002", "partial", {"app.py": LOG_NO_VERSION_APP}, lines=(("app.py", 8),), id="no-version"
    ),
    Case("MON002", "failed", {"app.py": RAW_APP}, lines=(("app.py", 6),)),
    Case("MON002", "unknown", {"train.py": "x = 1\n"}),
    # MON003 drift
    Case("MON003", "passed", {"app.py": RAW_APP, "monitoring": {"drift.py": DRIFT_JOB}}),
    Case(
        "MON003",
        "passed",
        {
            "app.py": RAW_APP,
            "monitoring": {"drift.py": KS_JOB},
            ".github": {"workflows": {"drift.yml": SCHEDULED_DRIFT}},
        },
        id="ks-scheduled",
    ),
    Case(
        "MON003",
        "partial",
        {
            "app.py": RAW_APP,
            "explore.ipynb": notebook(
                "from evidently import Report\nfrom evidently.presets import DataDriftPreset\n"
            ),
        },
        id="notebook",
    ),
    Case(
        "MON003",
        "failed",
        {"app.py": RAW_APP, "eval.py": "from scipy.stats import ks_2samp\nks_2samp([1], [2])\n"},
        id="ks-without-drift-context",
    ),
    # MON004 input schema
    Case("MON004", "passed", {"app.py": TYPED_APP}),
    Case("MON004", "passed", {"app.py": HELPER_LOG_APP}, id="marshmallow"),
    Case("MON004", "partial", {"app.py": MANUAL_CHECK_APP}, id="manual"),
    Case("MON004", "failed", {"app.py": RAW_APP}, lines=(("app.py", 6),)),
    Case("MON004", "unknown", {"train.py": "x = 1\n"}),
    # MON005 numerical stability
    Case("MON005", "passed", {"train.py": TORCH_TRAIN}),
    Case(
        "MON005",
        "passed",
        {
            "model.py": "import torch\nclass Net(torch.nn.Module): pass\n",
            "tests": {"test_model.py": TORCH_TEST},
        },
        id="test-assert",
    ),
    Case(
        "MON005",
        "passed",
        {"train.py": "import lightning as L\ntrainer = L.Trainer(detect_anomaly=True)\n"},
        id="lightning",
    ),
    Case("MON005", "failed", {"train.py": TORCH_TRAIN_UNCHECKED}),
    Case(
        "MON005",
        "failed",
        {"train.py": TORCH_TRAIN_UNCHECKED, "clean.py": TORCH_DATA_NAN},
        id="data-cleaning-is-not-a-check",
    ),
    Case(
        "MON005",
        "unknown",
        {"train.py": "from sklearn.linear_model import LogisticRegression\n"},
        id="no-deep-learning",
    ),
    # MON006 staleness
    Case(
        "MON006",
        "passed",
        {"train.py": "x = 1\n", ".github": {"workflows": {"retrain.yml": SCHEDULED_TRAIN}}},
    ),
    Case("MON006", "passed", {"dags": {"retrain.py": AIRFLOW_DAG}}, id="airflow"),
    Case("MON006", "passed", {"app.py": RAW_APP + "MAX_MODEL_AGE_DAYS = 30\n"}, id="age-check"),
    Case(
        "MON006",
        "failed",
        {"train.py": "x = 1\n", ".github": {"workflows": {"ci.yml": TEST_WORKFLOW_TRAINS}}},
        id="scheduled-test-run",
    ),
    Case("MON006", "failed", {"app.py": RAW_APP}),
    Case("MON006", "failed", {"app.py": RAW_APP + "CORS_MAX_AGE = 600\n"}, id="cors-max-age"),
    # MON007 prediction quality
    Case("MON007", "passed", {"app.py": RAW_APP, "monitoring": {"quality.py": QUALITY_JOB}}),
    Case(
        "MON007",
        "passed",
        {
            "jobs": {
                "perf.py": "import nannyml as nml\nestimator = nml.CBPE(y_pred='p', y_true='y')\n"
            }
        },
        id="nannyml",
    ),
    Case(
        "MON007",
        "failed",
        {"app.py": RAW_APP, "evaluate.py": QUALITY_JOB},
        id="offline-eval-is-not-monitoring",
    ),
    Case(
        "MON007", "not_applicable", {"app.py": RAW_APP}, context={"labels": False}, id="no-labels"
    ),
    # MON008 alerts
    Case("MON008", "passed", {"app.py": RAW_APP, "monitoring": {"rules.yml": ALERT_RULES}}),
    Case(
        "MON008",
        "passed",
        {"app.py": RAW_APP, "monitoring": {"notify.py": SLACK_ALERT}},
        id="slack",
    ),
    Case(
        "MON008",
        "passed",
        {"infra": {"alarms.tf": 'resource "aws_cloudwatch_metric_alarm" "errors" {}\n'}},
        id="terraform",
    ),
    Case("MON008", "failed", {"app.py": RAW_APP, "k8s": {"sm.yaml": SERVICE_MONITOR}}),
]
