"""Cases for VCS rules: git, data and model versioning, DVC, data paths, training configs."""

from rulecases import Case

from records_builder import store_bytes
from repo_builder import notebook

TRAIN_TORCH = (
    "import torch\n"
    "model = torch.nn.Linear(2, 1)\n"
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "loss = model(torch.ones(2)).sum()\n"
    "loss.backward()\n"
    "opt.step()\n"
)
TRAIN_ARGPARSE = (
    "import argparse\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "parser = argparse.ArgumentParser()\n"
    "parser.add_argument('--C', type=float, default=1.0)\n"
    "args = parser.parse_args()\n"
    "LogisticRegression(C=args.C).fit([[0], [1]], [0, 1])\n"
)
DVC_CONFIG_S3 = "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://team/dvc\n"
DVC_YAML = (
    "stages:\n"
    "  train:\n"
    "    cmd: python train.py\n"
    "    deps: [train.py, data/train.csv]\n"
    "    params: [train.lr]\n"
    "    outs: [model.pkl]\n"
    "    metrics:\n"
    "      - metrics.json:\n"
    "          cache: false\n"
)
BIG_CSV = b"a,b\n" * 300_000  # 1.2 MB
HUGE = b"\0" * 10_500_000  # over git's large-blob threshold of 10 MB

CASES = [
    # VCS001 version control
    Case("VCS001", "passed", {"train.py": "x = 1\n"}, git=True),
    Case("VCS001", "failed", {"train.py": "x = 1\n"}, id="no-git"),
    Case("VCS001", "unknown", {"train.py": "x = 1\n", ".gitignore": "*.pyc\n"}, id="exported"),
    Case("VCS001", "passed", {"train.py": "x = 1\n", ".hg": {"store": {"x": "1"}}}, id="hg"),
    # VCS002 large blobs in history
    Case("VCS002", "passed", {"train.py": "x = 1\n"}, git=True),
    Case("VCS002", "failed", {"train.py": "x = 1\n", "model.bin": HUGE}, git=True),
    Case("VCS002", "not_applicable", {"train.py": "x = 1\n"}, id="no-git"),
    # VCS003 data and model files in plain git
    Case("VCS003", "passed", {"data": {"small.csv": "a,b\n1,2\n"}}, git=True),
    Case("VCS003", "passed", {"train.py": "x = 1\n"}, id="no-data"),
    Case("VCS003", "failed", {"data": {"train.csv": BIG_CSV}}, git=True),
    Case(
        "VCS003",
        "passed",
        {".gitattributes": "*.csv filter=lfs diff=lfs merge=lfs -text\n", "train.csv": BIG_CSV},
        id="lfs",
        git=True,
    ),
    Case(
        "VCS003",
        "passed",
        {"data": {"train.csv": BIG_CSV, "train.csv.dvc": "outs:\n- md5: abc\n  path: train.csv\n"}},
        id="dvc-tracked",
    ),
    Case(
        "VCS003",
        "passed",
        {"spec.zip": BIG_CSV, "build.py": "import os\n"},
        id="archive-without-data-code",
    ),
    Case(
        "VCS003",
        "failed",
        {"data.zip": BIG_CSV, "load.py": "import pandas as pd\n"},
        id="archive-with-data-code",
    ),
    # VCS004 data versioned
    Case("VCS004", "passed", {"data.xml.dvc": "outs:\n- path: data.xml\n"}),
    Case("VCS004", "passed", {"dvc.yaml": DVC_YAML}, id="pipeline-outs"),
    Case("VCS004", "passed", {".gitattributes": "*.parquet filter=lfs\n"}, id="lfs"),
    Case("VCS004", "passed", {"load.py": "import dvc.api\n"}, id="dvc-api"),
    Case("VCS004", "passed", {"data": {"iris.csv": "a,b\n1,2\n"}}, id="small-in-git", git=True),
    Case("VCS004", "failed", {".gitignore": "data/\n", "train.py": "x = 1\n"}, id="ignored"),
    Case(
        "VCS004",
        "passed",
        {
            ".gitignore": "data/\n",
            "train.py": "x = 1\n",
            ".steward": {"steward.db": store_bytes()},
        },
        id="mlsteward-dataset-versions",
    ),
    Case(
        "VCS004",
        "failed",
        {
            ".gitignore": "data/\n",
            "train.py": "x = 1\n",
            ".steward": {"steward.db": b"not a database at all, just bytes" * 40},
        },
        id="unreadable-store-is-no-evidence",
    ),
    Case(
        "VCS004", "failed", {".gitignore": "*.parquet\n", "train.py": "x = 1\n"}, id="ignored-ext"
    ),
    Case(
        "VCS004",
        "unknown",
        {
            ".gitignore": "data/\n",
            "train.py": "from torchvision import datasets\ndatasets.MNIST('data', download=True)\n",
        },
        id="public-dataset",
    ),
    Case("VCS004", "unknown", {"data": {"prepare.py": "x = 1\n"}}, id="data-script-only"),
    Case("VCS004", "not_applicable", {"app.py": "x = 1\n"}, id="no-data"),
    # VCS005 DVC remote
    Case("VCS005", "not_applicable", {"train.py": "x = 1\n"}),
    Case("VCS005", "passed", {".dvc": {"config": DVC_CONFIG_S3}, "dvc.yaml": DVC_YAML}),
    Case(
        "VCS005",
        "passed",
        {
            ".dvc": {"config": DVC_CONFIG_S3},
            ".github": {
                "workflows": {
                    "ci.yml": "on: [pull_request]\njobs:\n  t:\n    runs-on: x\n"
                    "    steps:\n      - run: dvc pull\n"
                }
            },
        },
        id="ci-pulls",
    ),
    Case(
        "VCS005", "failed", {".dvc": {"config": "[core]\n    autostage = true\n"}}, id="no-remote"
    ),
    Case("VCS005", "failed", {"dvc.yaml": DVC_YAML}, id="no-config"),
    Case(
        "VCS005",
        "partial",
        {".dvc": {"config": "['remote \"local\"']\n    url = /tmp/dvc-store\n"}},
        id="local-remote",
    ),
    # VCS006 dvc.lock committed
    Case("VCS006", "not_applicable", {"train.py": "x = 1\n"}),
    Case("VCS006", "passed", {"dvc.yaml": DVC_YAML, "dvc.lock": "schema: '2.0'\n"}, git=True),
    Case(
        "VCS006",
        "passed",
        {
            "dvc.yaml": DVC_YAML,
            "dvc.lock": "schema: '2.0'\n",
            ".gitlab-ci.yml": "repro:\n  script:\n    - dvc pull\n    - dvc repro\n",
        },
        id="ci-repro",
    ),
    Case(
        "VCS006",
        "failed",
        {"dvc.yaml": DVC_YAML, "dvc.lock": "schema: '2.0'\n", ".gitignore": "dvc.lock\n"},
        id="ignored",
        git=True,
        lines=(("dvc.yaml", 2),),
    ),
    Case(
        "VCS006",
        "partial",
        {"dvc.yaml": DVC_YAML, "dvc.lock": "x: 1\n", "sub": {"dvc.yaml": DVC_YAML}},
        id="one-of-two",
    ),
    # VCS007 local absolute data paths
    Case(
        "VCS007",
        "failed",
        {"load.py": "import pandas as pd\n\ndf = pd.read_csv('/home/alice/data/train.csv')\n"},
        lines=(("load.py", 3),),
    ),
    Case(
        "VCS007",
        "failed",
        {"load.py": "import numpy as np\nX = np.load(r'C:\\Users\\bob\\x.npy')\n"},
        id="windows-home",
        lines=(("load.py", 2),),
    ),
    Case(
        "VCS007",
        "failed",
        {
            "nb.ipynb": notebook(
                "import pandas as pd", "df = pd.read_csv('/content/drive/MyDrive/x.csv')"
            )
        },
        id="notebook-drive",
        lines=(("nb.ipynb", 3),),
    ),
    Case(
        "VCS007",
        "failed",
        {"cfg.py": "DATA_DIR = '/mnt/team-share/churn'\n"},
        id="mount-assigned",
        lines=(("cfg.py", 1),),
    ),
    Case(
        "VCS007",
        "failed",
        {"load.py": "import os\nfiles = os.listdir(os.path.join('/scratch/u1', 'x'))\n"},
        id="mount-through-join",
        lines=(("load.py", 2),),
    ),
    Case(
        "VCS007",
        "passed",
        {
            "serve.py": (
                '"""Reads /home/alice/notes."""\n'
                "import argparse\n"
                "p = argparse.ArgumentParser()\n"
                "p.add_argument('--data', help='/home/you/data')\n"
                "open('/tmp/scratch.txt')\n"
                "open('/data/model.pkl')\n"
                "label = '/mnt/ is where volumes go'\n"
            ),
            "tests": {"test_load.py": "PATH = '/home/user/x.csv'\n"},
        },
        id="docstring-help-tmp-container-tests",
    ),
    Case(
        "VCS007",
        "passed",
        {"load.py": "import pandas as pd\ndf = pd.read_csv('s3://bucket/train.csv')\n"},
        id="remote-uri",
    ),
    Case("VCS007", "not_applicable", {"README.md": "# x\n"}),
    # VCS008 training configuration tracked
    Case("VCS008", "not_applicable", {"app.py": "import flask\n"}),
    Case("VCS008", "passed", {"train.py": TRAIN_TORCH, "params.yaml": "lr: 0.1\n"}),
    Case(
        "VCS008",
        "passed",
        {"train.py": TRAIN_TORCH, "configs": {"base.yaml": "lr: 0.1\n"}},
        id="configs-dir",
    ),
    Case(
        "VCS008",
        "passed",
        {"train.py": TRAIN_ARGPARSE, "run.sh": "python train.py \\\n  --C 0.5 \\\n  --seed 3\n"},
        id="scripted-run",
    ),
    Case(
        "VCS008",
        "failed",
        {"train.py": TRAIN_ARGPARSE},
        id="cli-only",
        lines=(("train.py", 3),),
    ),
    Case("VCS008", "partial", {"train.py": TRAIN_TORCH}, id="hard-coded"),
    Case(
        "VCS008",
        "not_applicable",
        {"explore.ipynb": notebook(TRAIN_TORCH)},
        id="notebook-only",
    ),
    Case(
        "VCS008",
        "failed",
        {"train.py": TRAIN_ARGPARSE, "deploy": {"config.yaml": "replicas: 2\n"}},
        id="deploy-config-is-not-training-config",
    ),
]
