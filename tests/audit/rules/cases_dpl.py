"""Cases for DPL rules: packaging, automated deployment, canary, shadow, rollback, smoke tests."""

from rulecases import Case

from records_builder import gates_toml, registry_store_bytes

FASTAPI_APP = """\
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()

class Features(BaseModel):
    x: float

@app.get("/health")
def health():
    return {"ok": True}

@app.post("/predict")
def predict(features: Features):
    return {"y": features.x * 2}
"""

DOCKERFILE = """\
FROM python:3.11-slim
COPY . /srv
RUN pip install -r /srv/requirements.txt
EXPOSE 8080
CMD ["uvicorn", "app:app", "--port", "8080"]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model
spec:
  template:
    spec:
      containers:
        - name: model
          image: registry/model:v1
          readinessProbe:
            httpGet: {path: /health, port: 8080}
        - name: sidecar
          image: registry/logger:v1
"""

ISVC_CANARY = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://models/churn/v7
"""

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: model
spec:
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: {duration: 10m}
        - setWeight: 50
      analysis:
        templates:
          - templateName: error-rate
  template:
    spec:
      containers:
        - name: model
          image: registry/model:v2
          livenessProbe: {httpGet: {path: /health, port: 8080}}
"""

VIRTUAL_SERVICE = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: model
spec:
  hosts: [model]
  http:
    - route:
        - destination: {host: model-v1}
          weight: 90
        - destination: {host: model-v2}
          weight: 10
      mirror: {host: model-v3}
"""

SEPARATED = """\
apiVersion: v1
kind: Service
metadata:
  name: model
spec:
  ports: [{port: 80}]
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: churn
spec:
  predictors:
    - name: main
      traffic: 100
      graph: {name: model, implementation: SKLEARN_SERVER, modelUri: s3://m/v1}
    - name: challenger
      shadow: true
      graph: {name: model, implementation: SKLEARN_SERVER, modelUri: s3://m/v2}
"""

HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers:
        - name: model
          image: "{{ .Values.image }}"
          readinessProbe:
            httpGet: {path: /health, port: 8080}
"""

DEPLOY_WORKFLOW = """\
on:
  push:
    tags: ["v*"]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t reg/model:${{ github.ref_name }} .
      - run: docker push reg/model:${{ github.ref_name }}
      - run: helm upgrade --install model chart/ --atomic
"""

DOCS_WORKFLOW = """\
on:
  push:
    branches: [main]
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - name: Deploy documentation
        run: mkdocs gh-deploy --force
"""

BUILD_ONLY_WORKFLOW = """\
on: [push, pull_request]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t model:test .
"""

# an action's `with: run:` block holds commands too (ultralytics/actions/retry)
RETRY_WORKFLOW = """\
on:
  push:
    branches: [master]
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - name: Push
        uses: some/retry@v1
        with:
          run: docker push org/model:latest
"""

ANYSCALE_SERVICE = """\
name: model
ray_serve_config:
  import_path: deploy.serve:entrypoint
rollout_strategy: ROLLOUT
"""

SMOKE_TEST = """\
from fastapi.testclient import TestClient
from app import app

def test_predict():
    client = TestClient(app)
    r = client.post("/predict", json={"x": 1.0})
    assert r.status_code == 200
"""

MOCKED_TEST = """\
from unittest import mock
from fastapi.testclient import TestClient
from app import app

def test_predict():
    with mock.patch("app.model"):
        r = TestClient(app).post("/predict", json={"x": 1.0})
    assert r.status_code == 200
"""

UNIT_TEST = """\
from app import Features

def test_features():
    assert Features(x=1.0).x == 1.0
"""

FLASK_APP = """\
from flask import Flask, request
import joblib

app = Flask(__name__)
model = joblib.load("model.joblib")

@app.route("/predict", methods=["POST"])
def predict():
    return {"y": model.predict([request.json["x"]]).tolist()}
"""

PREDICT_TORCH = """\
import torch

def load(path):
    return torch.load(path, map_location="cpu")

def load_safe(path):
    return torch.load(path, map_location="cpu", weights_only=True)
"""

ARGO_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: model}
spec: {}
"""

SAGEMAKER_CANARY = """\
import boto3
sm = boto3.client("sagemaker")
policy = {"TrafficRoutingConfiguration": {"Type": "CANARY"}}
sm.update_endpoint(EndpointName="e", DeploymentConfig={"BlueGreenUpdatePolicy": policy})
"""

SAGEMAKER_ROLLBACK = """\
import boto3
alarms = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}
boto3.client("sagemaker").update_endpoint(EndpointName="e", DeploymentConfig=alarms)
"""

FLASK_TEST = """\
from app import app

def test_p():
    assert app.test_client().post("/predict", json={"x": 1}).status_code == 200
"""

PKG_SERVE = """\
from fastapi import FastAPI
from .model import load_model
app = FastAPI()

@app.post("/predict")
def p():
    return {}
"""

PKG_MODEL = """\
import pickle

def load_model(path):
    with open(path, "rb") as f:
        return pickle.load(f)

def load_cache(path):
    return pickle.load(open(path, "rb"))
"""

E2E_WORKFLOW = """\
on: [push, pull_request]
jobs:
  e2e-test:
    runs-on: ubuntu-latest
    steps:
      - run: kind create cluster && kubectl apply -f k8s/ && pytest tests/e2e
"""

AZUREML_SCORE = """\
import joblib

def init():
    global model
    model = joblib.load("model.pkl")

def run(raw_data):
    return model.predict(raw_data).tolist()
"""

CASES = [
    # DPL001 packaging
    Case("DPL001", "passed", {"app.py": FASTAPI_APP, "Dockerfile": DOCKERFILE}),
    Case("DPL001", "passed", {"k8s": {"isvc.yaml": ISVC_CANARY}}, id="kserve"),
    Case(
        "DPL001",
        "passed",
        {"chart": {"Chart.yaml": "name: model\n", "templates": {"d.yaml": HELM_TEMPLATE}}},
        id="helm",
    ),
    Case("DPL001", "passed", {"bentofile.yaml": "service: 'service:svc'\n"}, id="bento"),
    Case(
        "DPL001",
        "passed",
        {"models": {"m": {"config.pbtxt": 'name: "m"\nbackend: "onnxruntime"\n'}}},
        id="triton",
    ),
    Case("DPL001", "partial", {"app.py": FASTAPI_APP}, id="serving-code-only"),
    Case("DPL001", "failed", {"train.py": "print('train')\n"}),
    Case(
        "DPL001",
        "not_applicable",
        {"train.py": "x = 1\n"},
        context={"deployed": False},
        id="research",
    ),
    # DPL002 automated deployment
    Case(
        "DPL002",
        "passed",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"deploy.yml": DEPLOY_WORKFLOW}}},
    ),
    Case(
        "DPL002",
        "passed",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"d.yml": RETRY_WORKFLOW}}},
        id="with-run",
    ),
    Case(
        "DPL002",
        "passed",
        {"argo": {"app.yaml": ARGO_APP}},
        id="gitops",
    ),
    Case(
        "DPL002",
        "partial",
        {"Dockerfile": DOCKERFILE, "deploy.sh": "#!/bin/sh\nkubectl apply -f k8s/\n"},
        id="manual-script",
    ),
    Case(
        "DPL002",
        "partial",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"ci.yml": BUILD_ONLY_WORKFLOW}}},
        id="build-only",
    ),
    Case(
        "DPL002",
        "failed",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"docs.yml": DOCS_WORKFLOW}}},
        id="docs-deploy-is-not-deploy",
    ),
    Case("DPL002", "failed", {"Dockerfile": DOCKERFILE}),
    Case(
        "DPL002",
        "failed",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"e2e.yml": E2E_WORKFLOW}}},
        id="test-cluster-is-not-a-release",
    ),
    # DPL003 canary
    Case("DPL003", "passed", {"k8s": {"isvc.yaml": ISVC_CANARY}}),
    Case("DPL003", "passed", {"k8s": {"rollout.yaml": ROLLOUT}}, id="argo"),
    Case("DPL003", "passed", {"k8s": {"vs.yaml": VIRTUAL_SERVICE}}, id="istio-weights"),
    Case("DPL003", "passed", {"deploy": {"service.yaml": ANYSCALE_SERVICE}}, id="anyscale"),
    Case(
        "DPL003",
        "passed",
        {"deploy.py": SAGEMAKER_CANARY},
        id="sagemaker",
    ),
    Case("DPL003", "failed", {"k8s": {"deploy.yaml": DEPLOYMENT}}),
    Case(
        "DPL003",
        "not_applicable",
        {"k8s": {"deploy.yaml": DEPLOYMENT}},
        context={"deployed": False},
    ),
    # DPL004 shadow
    Case("DPL004", "passed", {"k8s": {"vs.yaml": VIRTUAL_SERVICE}}),
    Case("DPL004", "passed", {"k8s": {"all.yaml": SEPARATED}}, id="seldon-shadow-multidoc"),
    Case(
        "DPL004",
        "passed",
        {"Makefile": "shadow:\n\tsteward serve churn@production --shadow churn@candidate\n"},
        id="mlsteward",
    ),
    Case("DPL004", "failed", {"k8s": {"isvc.yaml": ISVC_CANARY}}),
    # DPL005 rollback
    Case("DPL005", "passed", {"k8s": {"rollout.yaml": ROLLOUT}}),
    Case(
        "DPL005",
        "passed",
        {"Dockerfile": DOCKERFILE, ".github": {"workflows": {"deploy.yml": DEPLOY_WORKFLOW}}},
        id="helm-atomic",
    ),
    Case(
        "DPL005",
        "passed",
        {"ep.py": SAGEMAKER_ROLLBACK},
        id="sagemaker",
    ),
    Case(
        "DPL005",
        "partial",
        {
            "k8s": {"deploy.yaml": DEPLOYMENT},
            "scripts": {"rollback.sh": "kubectl rollout undo deployment/model\n"},
        },
        id="scripted",
    ),
    Case(
        "DPL005",
        "partial",
        {"ops.py": "import subprocess\nsubprocess.run('helm rollback model 0', shell=True)\n"},
        id="scripted-python",
    ),
    Case("DPL005", "failed", {"k8s": {"deploy.yaml": DEPLOYMENT}}),
    Case(
        "DPL005",
        "failed",
        {"ops.py": 'def f():\n    """Run kubectl rollout undo by hand."""\n'},
        id="docstring-is-not-a-script",
    ),
    # DPL006 serving smoke test
    Case("DPL006", "passed", {"app.py": FASTAPI_APP, "tests": {"test_app.py": SMOKE_TEST}}),
    Case(
        "DPL006",
        "passed",
        {
            "app.py": FLASK_APP,
            "tests": {"test_app.py": FLASK_TEST},
        },
        id="flask",
    ),
    Case(
        "DPL006",
        "partial",
        {"app.py": FASTAPI_APP, "tests": {"test_app.py": MOCKED_TEST}},
        id="mocked-model",
    ),
    Case(
        "DPL006",
        "failed",
        {"app.py": FASTAPI_APP, "tests": {"test_app.py": UNIT_TEST}},
        lines=(("app.py", 14),),
    ),
    Case("DPL006", "unknown", {"train.py": "x = 1\n"}, id="nothing-served"),
    # DPL007 unsafe deserialisation in serving/inference code
    Case("DPL007", "passed", {"app.py": FASTAPI_APP}),
    Case("DPL007", "failed", {"app.py": FLASK_APP}, lines=(("app.py", 5),)),
    Case(
        "DPL007",
        "failed",
        {"predict.py": PREDICT_TORCH},
        lines=(("predict.py", 4),),
        id="torch-load",
    ),
    Case(
        "DPL007",
        "failed",
        {
            "src": {
                "pkg": {
                    "__init__.py": "",
                    "serve.py": PKG_SERVE,
                    "model.py": PKG_MODEL,
                }
            }
        },
        lines=(("src/pkg/model.py", 5),),
        id="imported-module-model-loads-only",
    ),
    Case(
        "DPL007",
        "not_applicable",
        {"train.py": "import pickle\nm = pickle.load(open('m.pkl', 'rb'))\n"},
        id="training-only",
    ),
    Case(
        "DPL007",
        "passed",
        {"inference.py": "import numpy as np\nx = np.load('a.npy')\n"},
        id="numpy-without-pickle",
    ),
    # DPL008 health checks
    Case("DPL008", "passed", {"k8s": {"rollout.yaml": ROLLOUT}}),
    Case("DPL008", "partial", {"k8s": {"deploy.yaml": DEPLOYMENT}}, id="sidecar-without-probe"),
    Case(
        "DPL008",
        "passed",
        {"Dockerfile": DOCKERFILE + "HEALTHCHECK CMD curl -f http://localhost:8080/health\n"},
        id="healthcheck",
    ),
    Case(
        "DPL008",
        "passed",
        {
            "chart": {"Chart.yaml": "name: m\n", "templates": {"d.yaml": HELM_TEMPLATE}},
            "Dockerfile": DOCKERFILE,
        },
        id="helm-text",
    ),
    Case("DPL008", "partial", {"Dockerfile": DOCKERFILE, "app.py": FASTAPI_APP}, id="route-only"),
    Case("DPL008", "failed", {"Dockerfile": DOCKERFILE, "app.py": FLASK_APP}),
    Case("DPL008", "failed", {"Dockerfile": DOCKERFILE + "HEALTHCHECK NONE\n"}, id="disabled"),
    Case("DPL008", "unknown", {"train.py": "x = 1\n"}),
    Case("DPL007", "failed", {"score.py": AZUREML_SCORE}, lines=(("score.py", 5),), id="azureml"),
    Case(
        "DPL007",
        "not_applicable",
        {"fsdp": {"checkpoint_handler.py": "import torch\nstate = torch.load('ckpt.pt')\n"}},
        id="checkpoint-handler-is-not-serving",
    ),
    # -- mlsteward's records
    Case(
        "DPL003",
        "passed",
        {"pyproject.toml": gates_toml(), ".steward": {"steward.db": registry_store_bytes()}},
        id="records-canary-first",
    ),
    Case(
        "DPL003",
        "failed",
        {
            "pyproject.toml": gates_toml(canary_minutes=30),
            ".steward": {"steward.db": registry_store_bytes(canary=False)},
        },
        lines=((".steward/steward.db", None),),
        id="records-canary-skipped",
    ),
    Case(
        "DPL005",
        "partial",
        {"pyproject.toml": gates_toml(), ".steward": {"steward.db": registry_store_bytes()}},
        id="records-previous-kept",
    ),
    Case(
        "DPL005",
        "failed",
        {
            "pyproject.toml": gates_toml(),
            ".steward": {"steward.db": registry_store_bytes(previous=False)},
        },
        lines=((".steward/steward.db", None),),
        id="records-previous-deleted",
    ),
]
