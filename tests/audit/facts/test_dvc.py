"""DVC facts: pipelines, tracked files, remotes and params read from DVC's own files."""

from __future__ import annotations

from pathlib import Path

from mlsteward.audit.facts import Facts
from repo_builder import build_repo

CONFIG = """[core]
    remote = storage
    autostage = true
['remote "storage"']
    url = s3://team-bucket/dvc
['remote "backup"']
    url = gs://backup/dvc
"""

PIPELINE = """stages:
  prepare:
    cmd: python src/prepare.py data/raw.xml
    deps:
      - src/prepare.py
      - data/raw.xml
    params:
      - prepare.seed
      - prepare.split
    outs:
      - data/prepared
  train:
    wdir: src
    cmd:
      - python train.py
      - python export.py
    deps: [train.py, ../data/prepared]
    params:
      - train.lr
      - ../configs/model.yaml:
          - layers
      - ../configs/extra.yaml:
    outs:
      - ../model.pkl:
          cache: true
    metrics:
      - ../eval/metrics.json:
          cache: false
    plots:
      - ../eval/roc.csv
  evaluate:
    foreach: [a, b]
    do:
      cmd: python evaluate.py ${item}
      outs:
        - eval/${item}.json
metrics:
  - eval/summary.json
plots:
  - eval/plots/images
  - ROC:
      x: fpr
      y: {eval/roc.csv: tpr}
params:
  - configs/global.yaml
"""


def test_not_present(tmp_path: Path) -> None:
    dvc = Facts(build_repo(tmp_path, {"train.py": "x = 1\n"})).dvc
    assert not dvc.present
    assert dvc.stages == []
    assert dvc.remotes == {}


def test_pipeline_config_and_tracked_files(tmp_path: Path) -> None:
    files = {
        ".dvc": {"config": CONFIG, ".gitignore": "/tmp\n/cache\n"},
        "dvc.yaml": PIPELINE,
        "dvc.lock": "schema: '2.0'\n",
        "params.yaml": "prepare:\n  seed: 1\n",
        "configs": {"model.yaml": "layers: 2\n", "extra.yaml": "x: 1\n", "global.yaml": "g: 1\n"},
        "data": {
            "raw.xml.dvc": "outs:\n- md5: abc\n  path: raw.xml\n",
            "shared.dvc": (
                "deps:\n- path: datasets/shared\n  repo:\n    url: git@github.com:o/registry.git\n"
                "    rev_lock: 0123abc\nouts:\n- path: shared\n"
            ),
        },
    }
    dvc = Facts(build_repo(tmp_path, files)).dvc
    assert dvc.present
    assert dvc.remotes == {"storage": "s3://team-bucket/dvc", "backup": "gs://backup/dvc"}
    assert dvc.default_remote == "storage"
    assert dvc.config_path == ".dvc/config"
    assert dvc.pipelines == ["dvc.yaml"]
    assert dvc.lock_present
    assert dvc.lock_files == ["dvc.lock"]
    assert dvc.dvc_files == ["data/raw.xml.dvc", "data/shared.dvc"]
    assert dvc.imports == ["data/shared.dvc"]

    stages = {s.name: s for s in dvc.stages}
    assert list(stages) == ["prepare", "train", "evaluate"]
    prepare = stages["prepare"]
    assert prepare.line == 2
    assert prepare.deps == ("src/prepare.py", "data/raw.xml")
    assert prepare.params == ("prepare.seed", "prepare.split")
    assert prepare.outs == ("data/prepared",)
    train = stages["train"]
    assert train.cmd == "python train.py && python export.py"
    assert train.deps == ("src/train.py", "data/prepared")  # relative to wdir
    assert train.outs == ("model.pkl",)
    assert train.metrics == ("eval/metrics.json",)
    assert train.plots == ("eval/roc.csv",)
    assert train.params == ("train.lr", "../configs/model.yaml:layers", "../configs/extra.yaml")
    assert stages["evaluate"].cmd == "python evaluate.py ${item}"

    assert dvc.params_files == [
        "configs/extra.yaml",
        "configs/global.yaml",
        "configs/model.yaml",
        "params.yaml",
    ]
    assert dvc.metrics_files == ["eval/metrics.json", "eval/summary.json"]
    assert "eval/plots/images" in dvc.plots_files
    assert dvc.tracks("data/prepared/train.csv")
    assert dvc.tracks("data/raw.xml")
    assert dvc.tracks("model.pkl")
    assert not dvc.tracks("data/raw.xml.dvc")


def test_pipeline_in_a_subfolder(tmp_path: Path) -> None:
    files = {"ml": {"dvc.yaml": "stages:\n  s:\n    cmd: python t.py\n    outs: [out]\n"}}
    dvc = Facts(build_repo(tmp_path, files)).dvc
    assert dvc.present
    assert dvc.config_path is None
    (stage,) = dvc.stages
    assert (stage.path, stage.outs) == ("ml/dvc.yaml", ("ml/out",))
    assert not dvc.lock_present


def test_broken_yaml_is_a_problem(tmp_path: Path) -> None:
    facts = Facts(build_repo(tmp_path, {"dvc.yaml": "stages: [\n"}))
    assert facts.dvc.present
    assert facts.dvc.stages == []
    assert any(p.path == "dvc.yaml" and p.kind == "config" for p in facts.problems)
