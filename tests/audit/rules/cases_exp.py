"""Cases for EXP rules: experiment tracking and training practices."""

from rulecases import Case

from records_builder import store_bytes
from repo_builder import notebook

SK_TRAIN = """\
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

df = pd.read_csv("data.csv")
model = RandomForestClassifier(n_estimators=300)
model.fit(df.drop(columns="y"), df.y)
"""

TORCH_TRAIN = """\
import torch

def main():
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        loss = model(torch.randn(8, 4)).sum()
        loss.backward()
        opt.step()

if __name__ == "__main__":
    main()
"""

WANDB_LOOP = """\
import torch
import wandb

def main():
    wandb.init(project="p")
    model = torch.nn.Linear(4, 1)
    for epoch in range(10):
        loss = model(torch.randn(8, 4)).sum()
        loss.backward()
        wandb.log({"loss": loss.item()})

if __name__ == "__main__":
    main()
"""

CASES = [
    # -- EXP001 experiment-tracking
    Case("EXP001", "passed", {"train.py": WANDB_LOOP}, id="wandb"),
    Case(
        "EXP001",
        "passed",
        {
            "train.py": SK_TRAIN
            + "import mlflow\nwith mlflow.start_run():\n    mlflow.log_metric('a', 1)\n"
        },
        id="mlflow",
    ),
    Case(
        "EXP001",
        "passed",
        {
            "train.py": SK_TRAIN
            + "import mlsteward as steward\nwith steward.start_run('x') as run:\n    pass\n"
        },
        id="mlsteward-run",
    ),
    Case(
        "EXP001",
        "passed",
        {
            "train.py": TORCH_TRAIN,
            "lit.py": "from pytorch_lightning.loggers import WandbLogger\nlogger = WandbLogger()\n",
        },
        id="lightning-logger",
    ),
    Case(
        "EXP001",
        "partial",
        {
            "train.py": TORCH_TRAIN.replace(
                "import torch\n",
                "import torch\nfrom torch.utils.tensorboard import SummaryWriter\n"
                "w = SummaryWriter()\n",
            )
        },
        id="tensorboard-only",
    ),
    Case(
        "EXP001",
        "passed",
        {"train.py": SK_TRAIN, ".steward": {"steward.db": store_bytes()}},
        id="mlsteward-records",
    ),
    Case("EXP001", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 6),)),
    Case(
        "EXP001",
        "failed",
        {"train.py": SK_TRAIN, ".steward": {"steward.db": store_bytes(runs=0)}},
        id="empty-store",
    ),
    Case(
        "EXP001",
        "failed",
        {
            "train.py": SK_TRAIN,
            "serve.py": "import mlflow\nm = mlflow.pyfunc.load_model('models:/x/1')\n",
        },
        id="mlflow-serving-is-not-tracking",
    ),
    Case(
        "EXP001",
        "failed",
        {"train.py": SK_TRAIN, "tests/test_track.py": "import mlflow\nmlflow.log_metric('a', 1)\n"},
        id="tracker-only-in-tests",
    ),
    Case(
        "EXP001",
        "not_applicable",
        {"app.py": "import requests\nrequests.get('x')\n"},
        id="no-training",
    ),
    # -- EXP002 metrics-during-training
    Case("EXP002", "passed", {"train.py": WANDB_LOOP}, id="wandb-in-loop"),
    Case(
        "EXP002",
        "passed",
        {
            "model.py": "import pytorch_lightning as pl\n\nclass M(pl.LightningModule):\n"
            "    def training_step(self, batch, i):\n        loss = self(batch)\n"
            "        self.log('train_loss', loss)\n        return loss\n",
            "train.py": "import pytorch_lightning as pl\nfrom model import M\n"
            "pl.Trainer().fit(M())\n",
        },
        id="lightning-self-log",
    ),
    Case(
        "EXP002",
        "passed",
        {
            "train.py": "from tensorflow import keras\nmodel = keras.Sequential()\n"
            "model.fit(x, y, epochs=5, validation_data=(xv, yv))\n"
        },
        id="keras-validation-data",
    ),
    Case(
        "EXP002",
        "passed",
        {
            "train.py": SK_TRAIN,
            "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    metrics:\n    - m.json\n",
        },
        id="classical-dvc-metrics",
    ),
    Case(
        "EXP002",
        "partial",
        {
            "train.py": TORCH_TRAIN.replace(
                "opt.step()", "opt.step()\n        print('epoch', epoch, 'loss', loss.item())"
            )
        },
        id="printed-only",
    ),
    Case(
        "EXP002",
        "passed",
        {"train.py": TORCH_TRAIN, ".steward": {"steward.db": store_bytes()}},
        id="mlsteward-stepped-records",
    ),
    Case(
        "EXP002", "failed", {"train.py": TORCH_TRAIN}, lines=(("train.py", 8),), id="torch-silent"
    ),
    Case(
        "EXP002",
        "failed",
        {"train.py": TORCH_TRAIN, ".steward": {"steward.db": store_bytes(steps=1)}},
        id="records-one-step-only",
    ),
    Case(
        "EXP002",
        "failed",
        {
            "train.py": TORCH_TRAIN.replace(
                "import torch\n", "import torch\nimport numpy as np\nimport wandb\n"
            ).replace("opt.step()", "opt.step()\n        x = np.log(2)")
        },
        id="np-log-is-not-logging",
    ),
    Case(
        "EXP002",
        "failed",
        {
            "train.py": SK_TRAIN
            + "import wandb\nwandb.init()\nfor name in ['a', 'b']:\n    run = wandb.run\n",
        },
        id="classical-no-record",
    ),
    Case("EXP002", "not_applicable", {"app.py": "x = 1\n"}),
    # -- EXP003 hyperparameter-search
    Case(
        "EXP003",
        "passed",
        {
            "tune.py": SK_TRAIN
            + "import optuna\nstudy = optuna.create_study(direction='maximize')\n"
        },
        id="optuna",
    ),
    Case(
        "EXP003",
        "passed",
        {
            "train.py": SK_TRAIN + "from sklearn.model_selection import GridSearchCV\n"
            "GridSearchCV(model, {'max_depth': [2, 4]}).fit(X, y)\n"
        },
        id="gridsearch",
    ),
    Case(
        "EXP003",
        "passed",
        {
            "train.py": SK_TRAIN,
            "sweep.yaml": "method: bayes\nmetric: {name: val_loss, goal: minimize}\nparameters:\n"
            "  lr: {min: 0.0001, max: 0.1}\n",
        },
        id="wandb-sweep-yaml",
    ),
    Case("EXP003", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 6),)),
    Case(
        "EXP003",
        "failed",
        {"train.py": SK_TRAIN, "notes.yaml": "parameters: [a]\n"},
        id="yaml-not-a-sweep",
    ),
    Case("EXP003", "not_applicable", {"app.py": "x = 1\n"}),
    # -- EXP004 training-configured
    Case(
        "EXP004",
        "passed",
        {"train.py": "import argparse\n" + TORCH_TRAIN},
        id="argparse",
    ),
    Case(
        "EXP004",
        "passed",
        {
            "train.py": "import yaml\nparams = yaml.safe_load(open('params.yaml'))\n" + SK_TRAIN,
            "params.yaml": "n: 3\n",
        },
        id="params-yaml",
    ),
    Case(
        "EXP004",
        "passed",
        {
            "pkg/__init__.py": "",
            "pkg/config.py": "from omegaconf import OmegaConf\ncfg = OmegaConf.load('c.yaml')\n",
            "pkg/train.py": "from pkg.config import cfg\n" + TORCH_TRAIN,
        },
        id="config-through-local-module",
    ),
    Case(
        "EXP004",
        "passed",
        {
            "train.py": "exec(open('configurator.py').read())\n" + TORCH_TRAIN,
            "configurator.py": "x = 1\n",
        },
        id="nanogpt-configurator",
    ),
    Case("EXP004", "failed", {"train.py": TORCH_TRAIN}, lines=(("train.py", 8),)),
    Case(
        "EXP004",
        "partial",
        {"train.py": "import argparse\n" + TORCH_TRAIN, "explore.ipynb": notebook(SK_TRAIN)},
        id="one-of-two",
    ),
    Case(
        "EXP004",
        "failed",
        {"train.py": "import json\ndata = json.load(open('rows.json'))\n" + SK_TRAIN},
        id="json-data-is-not-config",
    ),
    Case("EXP004", "not_applicable", {"app.py": "import argparse\n"}),
    # -- EXP005 primary-metric
    Case(
        "EXP005",
        "passed",
        {
            "train.py": SK_TRAIN,
            "dvc.yaml": "stages:\n  evaluate:\n    cmd: python e.py\n    metrics:\n"
            "    - eval/metrics.json:\n        cache: false\n",
        },
        id="dvc-metrics",
    ),
    Case(
        "EXP005",
        "passed",
        {
            "train.py": "from keras.callbacks import ModelCheckpoint\n"
            "cb = ModelCheckpoint('m.h5', monitor='val_auc')\n" + TORCH_TRAIN
        },
        id="checkpoint-monitor",
    ),
    Case(
        "EXP005",
        "passed",
        {
            "train.py": TORCH_TRAIN.replace(
                "opt.step()",
                "opt.step()\n        if loss < best_val_loss:\n            best_val_loss = loss",
            )
        },
        id="best-so-far",
    ),
    Case(
        "EXP005",
        "passed",
        {
            "train.py": SK_TRAIN,
            "pyproject.toml": "[tool.steward.gates.quality]\nmin_accuracy = 0.8\n",
        },
        id="steward-gate",
    ),
    Case("EXP005", "failed", {"train.py": SK_TRAIN}),
    Case("EXP005", "not_applicable", {"app.py": "x = 1\n"}),
    # -- EXP006 automl
    Case(
        "EXP006",
        "passed",
        {"train.py": "from flaml import AutoML\nAutoML().fit(X, y, task='classification')\n"},
    ),
    Case("EXP006", "failed", {"train.py": SK_TRAIN}),
    Case("EXP006", "not_applicable", {"app.py": "x = 1\n"}),
    # -- EXP007 feature-automation
    Case(
        "EXP007",
        "passed",
        {
            "train.py": SK_TRAIN
            + "from sklearn.feature_selection import SelectKBest\nSelectKBest(k=5)\n"
        },
    ),
    Case("EXP007", "failed", {"train.py": SK_TRAIN}),
    Case("EXP007", "not_applicable", {"train.py": TORCH_TRAIN}, id="networks-learn-features"),
    Case(
        "EXP007",
        "failed",
        {"train.py": TORCH_TRAIN, "pyproject.toml": "[tool.steward.context]\nfeatures = true\n"},
        id="context-says-features",
    ),
    Case(
        "EXP007",
        "not_applicable",
        {"train.py": SK_TRAIN},
        context={"features": False},
        id="context-no-features",
    ),
    # -- EXP008 interpretable-model
    Case(
        "EXP008",
        "passed",
        {
            "train.py": SK_TRAIN + "from sklearn.linear_model import LogisticRegression\n"
            "LogisticRegression().fit(X, y)\n"
        },
        id="linear-beside-forest",
    ),
    Case(
        "EXP008",
        "passed",
        {
            "train.py": "from sklearn.tree import DecisionTreeClassifier\n"
            "DecisionTreeClassifier(max_depth=3).fit(X, y)\n"
        },
        id="tree-only",
    ),
    Case("EXP008", "failed", {"train.py": SK_TRAIN}, lines=(("train.py", 5),)),
    Case(
        "EXP008",
        "partial",
        {"train.py": SK_TRAIN + "import shap\nshap.TreeExplainer(model)\n"},
        id="explained-black-box",
    ),
    Case("EXP008", "unknown", {"train.py": TORCH_TRAIN}, id="networks-only"),
    Case("EXP008", "not_applicable", {"app.py": "x = 1\n"}),
    # -- EXP009 efficient-models
    Case(
        "EXP009",
        "passed",
        {
            "train.py": TORCH_TRAIN
            + "q = torch.ao.quantization.quantize_dynamic(None, {torch.nn.Linear})\n"
        },
        id="quantize",
    ),
    Case(
        "EXP009",
        "passed",
        {
            "train.py": TORCH_TRAIN,
            "export.py": "import torch\nmodel = torch.load('m.pt')\nmodel.half()\n",
        },
        id="half-model",
    ),
    Case(
        "EXP009",
        "failed",
        {"train.py": TORCH_TRAIN, "ops.py": "import torch\nx = torch.randn(3)\nx.half()\n"},
        id="half-tensor-is-not-a-model",
        lines=(("train.py", 8),),
    ),
    Case("EXP009", "not_applicable", {"train.py": SK_TRAIN}, id="classical"),
]
