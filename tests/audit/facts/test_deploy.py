"""Deployment facts: Dockerfiles, manifests, Helm templates, CI signals and serving code."""

from __future__ import annotations

from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.deploy import parse_dockerfile
from mlsteward.audit.rule import Strength
from repo_builder import build_repo


def _facts(tmp_path: Path, files: dict[str, object]) -> Facts:
    return Facts(build_repo(tmp_path / "repo", files))  # type: ignore[arg-type]


def test_dockerfile_instructions_keep_their_first_line() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=linux/amd64 python:3.11 AS base\n"
        "RUN apt-get update \\\n"
        "    # a comment inside the instruction\n"
        "    && apt-get install -y curl\n"
        "HEALTHCHECK CMD curl -f http://localhost/health\n"
        'CMD ["uvicorn", "app:app"]\n'
    )
    df = parse_dockerfile("Dockerfile", text)
    assert [(i.keyword, i.line) for i in df.instructions] == [
        ("FROM", 2),
        ("RUN", 3),
        ("HEALTHCHECK", 6),
        ("CMD", 7),
    ]
    assert df.instructions[1].args == "apt-get update && apt-get install -y curl"
    assert df.base_images == ["python:3.11"]
    assert df.healthcheck is not None
    assert df.serving


def test_healthcheck_none_disables_and_dev_images_do_not_serve() -> None:
    df = parse_dockerfile("Dockerfile", "FROM python:3.11\nHEALTHCHECK NONE\nRUN pip install x\n")
    assert df.healthcheck is None
    assert not df.serving


def test_multi_document_manifests_get_their_own_lines(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
        "# comment\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: i\n"
        "          readinessProbe: {httpGet: {path: /h, port: 80}}\n"
    )
    facts = _facts(tmp_path, {"k8s": {"all.yaml": text}})
    manifests = facts.deploy.manifests
    assert [(m.kind, m.name, m.line) for m in manifests] == [
        ("Service", "a", 2),
        ("Deployment", "b", 8),
    ]
    assert manifests[1].containers[0]["name"] == "c"
    assert any(s.kind == "health" for s in facts.deploy.signals)


def test_helm_and_jinja_templates_are_scanned_not_parsed(tmp_path: Path) -> None:
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  strategy: {{- toYaml .Values.strategy | nindent 4 }}\n"
        "          livenessProbe:\n            httpGet: {path: /live}\n"
    )
    facts = _facts(
        tmp_path,
        {
            "chart": {"Chart.yaml": "name: m\n", "templates": {"deploy.yaml": template}},
            "ansible": {"k8s.yaml": "apiVersion: v1\nkind: {% if x %}Pod{% endif %}\n"},
        },
    )
    deploy = facts.deploy
    assert deploy.charts == ["chart/Chart.yaml"]
    assert deploy.manifests == []
    assert [(s.path, s.line) for s in deploy.of("health")] == [("chart/templates/deploy.yaml", 7)]
    assert facts.problems == []


def test_broken_manifest_is_a_config_problem(tmp_path: Path) -> None:
    facts = _facts(tmp_path, {"k8s.yaml": "apiVersion: v1\nkind: Pod\nspec: [unclosed\n"})
    assert facts.deploy.manifests == []
    assert [p.kind for p in facts.problems] == ["config"]


def test_ci_signals_carry_the_job_strength(tmp_path: Path) -> None:
    workflow = (
        "on:\n  push:\n    tags: ['v*']\n  workflow_dispatch:\n"
        "jobs:\n"
        "  docs:\n    runs-on: x\n    steps:\n      - run: mkdocs gh-deploy --force\n"
        "  release:\n    runs-on: x\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n"
        "      - run: kubectl rollout undo deploy/model\n"
    )
    facts = _facts(tmp_path, {".github": {"workflows": {"release.yml": workflow}}})
    deploy = facts.deploy
    assert deploy.of("deploy") == []  # a docs site is not a deployment
    publish = deploy.of("publish")
    assert [(s.line, s.strength) for s in publish] == [(13, Strength.AUTOMATED)]
    assert "job 'release'" in publish[0].text
    assert [s.line for s in deploy.of("rollback-script")] == [14]


def test_serving_handlers_across_frameworks(tmp_path: Path) -> None:
    files = {
        "api.py": (
            "from flask import Flask\napp = Flask(__name__)\nURL = '/v1/predict'\n\n"
            "@app.route(URL, methods=['POST'])\ndef predict():\n    return {}\n\n"
            "@app.route('/healthz')\ndef healthz():\n    return 'ok'\n"
        ),
        "kserve_model.py": (
            "import kserve\n\nclass Churn(kserve.Model):\n"
            "    def load(self):\n        pass\n"
            "    def predict(self, payload, headers=None):\n        return {}\n"
        ),
        "inference.py": (
            "def model_fn(model_dir):\n    pass\n\ndef predict_fn(data, model):\n    pass\n"
        ),
        "service.py": (
            "import bentoml\n\n@bentoml.service\nclass Svc:\n"
            "    @bentoml.api\n    def classify(self, text: str) -> str:\n        return text\n"
        ),
    }
    facts = _facts(tmp_path, files)
    found = {(h.path, h.name, h.framework, h.route, h.methods) for h in facts.deploy.handlers}
    assert found == {
        ("api.py", "predict", "flask", "/v1/predict", ("POST",)),
        ("api.py", "healthz", "flask", "/healthz", ("GET",)),
        ("kserve_model.py", "predict", "kserve", None, ("POST",)),
        ("inference.py", "predict_fn", "sagemaker", None, ("POST",)),
        ("service.py", "classify", "bentoml", None, ("POST",)),
    }
    predicts = {h.name for h in facts.deploy.predict_handlers}
    assert "healthz" not in predicts
    assert "predict" in predicts


def test_inference_modules_follow_project_imports(tmp_path: Path) -> None:
    files = {
        "src": {
            "pkg": {
                "__init__.py": "",
                "app.py": "from fastapi import FastAPI\nfrom . import model\napp = FastAPI()\n",
                "model.py": "from pkg.io import read\n",
                "io.py": "from pkg import deep\n",
                "deep.py": "x = 1\n",
                "train.py": "x = 1\n",
            }
        },
        "scripts": {"batch_predict.py": "import numpy\n"},
    }
    deploy = _facts(tmp_path, files).deploy
    # `from . import model` also runs the package's __init__
    assert deploy.serving_modules == {
        "src/pkg/app.py",
        "src/pkg/__init__.py",
        "src/pkg/model.py",
        "src/pkg/io.py",
    }
    assert "scripts/batch_predict.py" in deploy.inference_modules
    assert "src/pkg/train.py" not in deploy.inference_modules
    assert deploy.inference_entries == {"src/pkg/app.py", "scripts/batch_predict.py"}


def test_cloud_sdk_signals(tmp_path: Path) -> None:
    code = (
        "import boto3\nfrom google.cloud import aiplatform\n"
        "sm = boto3.client('sagemaker')\n"
        "capture = {'EnableCapture': True}\n"
        "sm.create_endpoint_config(EndpointConfigName='c', DataCaptureConfig=capture)\n"
        "model = aiplatform.Model('m')\n"
        "model.deploy(endpoint=None, traffic_percentage=10)\n"
    )
    deploy = _facts(tmp_path, {"deploy.py": code}).deploy
    kinds = {(s.kind, s.line) for s in deploy.signals}
    assert ("prediction-log", 5) in kinds
    assert ("canary", 7) in kinds
    assert ("package", 5) in kinds


def test_kustomize_build_input_is_not_parsed(tmp_path: Path) -> None:
    # PyYAML's safe loader cannot build a bare `=` (the YAML 1.1 "value" tag)
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "replacements:\n  - source: {kind: ConfigMap}\n    options:\n      delimiter: =\n"
    )
    facts = _facts(tmp_path, {"overlays": {"kustomization.yaml": text}})
    assert facts.deploy.manifests == []
    assert facts.problems == []
