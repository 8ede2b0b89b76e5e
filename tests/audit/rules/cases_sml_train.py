"""Cases for SML010-SML022: training and evaluation smells (scikit-learn, PyTorch, Keras).

Notebook lines are lines of the joined source: each code cell's lines, then one blank line.
"""

import textwrap

from rulecases import Case

from repo_builder import notebook


def py(text: str) -> str:
    """Source from an indented triple-quoted block; its first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


#: a PyTorch training loop that clears gradients (lines 3-8)
TORCH_LOOP = py("""
    import torch
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    """)

CASES = [
    # -- SML010 no scaling before a scale-sensitive model ---------------------------------------
    Case(
        "SML010",
        "failed",
        {
            "train.py": py("""
        import pandas as pd
        from sklearn.svm import SVC
        from sklearn.neighbors import KNeighborsClassifier as KNN
        df = pd.read_csv("customers.csv")
        model = SVC(C=1.0).fit(df[features], df["churn"])
        knn = KNN(n_neighbors=5)
        """)
        },
        lines=(("train.py", 5), ("train.py", 6)),
    ),
    Case(
        "SML010",
        "passed",
        {
            "train.py": py("""
        import pandas as pd
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        df = pd.read_csv("customers.csv")
        model = make_pipeline(StandardScaler(), SVC(C=1.0)).fit(df[features], df["churn"])
        """)
        },
        id="pipeline",
    ),
    Case(
        "SML010",
        "passed",
        {
            "prep.py": "from sklearn.preprocessing import RobustScaler\nscaler = RobustScaler()\n",
            "train.py": "import pandas as pd\nfrom sklearn.svm import SVC\n"
            "df = pd.read_csv('a.csv')\nm = SVC(C=1.0)\n",
        },
        id="scaler-in-another-module",
    ),
    Case(
        "SML010",
        "passed",
        {
            "train.py": py("""
        import numpy as np
        from sklearn.svm import SVC
        X = np.load("embeddings.npy")
        SVC(C=1.0).fit(X, y)
        """)
        },
        id="not-tabular",
    ),
    Case(
        "SML010",
        "passed",
        {
            "text.ipynb": notebook(
                "import pandas as pd\nfrom sklearn.feature_extraction.text import TfidfVectorizer",
                "from sklearn.linear_model import SGDClassifier\ndf = pd.read_csv('reviews.csv')",
                "X = TfidfVectorizer().fit_transform(df.text)\nclf = SGDClassifier().fit(X, df.y)",
            ),
            "moons.ipynb": notebook(
                "import pandas as pd\nfrom sklearn.datasets import make_moons\n"
                "from sklearn.svm import SVC\nX, y = make_moons(noise=0.3)",
                "SVC(C=1).fit(X, y)\nhousing = pd.read_csv('housing.csv')",
            ),
        },
        id="text-features-and-synthetic-data",
    ),
    Case(
        "SML010",
        "failed",
        {
            "eda.ipynb": notebook(
                "import pandas as pd\nimport sklearn.decomposition as dec\n"
                "df = pd.read_csv('a.csv')",
                "pca = dec.PCA(n_components=2)",
            ),
            "prep.py": "from sklearn.preprocessing import StandardScaler\n",
        },
        id="notebook-scales-itself",
        lines=(("eda.ipynb", 5),),
    ),
    Case("SML010", "not_applicable", {"train.py": "import pandas as pd\n"}),
    # -- SML011 hyperparameters not set ---------------------------------------------------------
    Case(
        "SML011",
        "failed",
        {
            "train.py": py("""
        from sklearn.ensemble import RandomForestClassifier
        import torch
        model = RandomForestClassifier()
        opt = torch.optim.Adam(net.parameters())
        """)
        },
        lines=(("train.py", 3), ("train.py", 4)),
    ),
    Case(
        "SML011",
        "failed",
        {
            "train.py": py("""
        from torch import optim
        import tensorflow as tf
        opt = optim.SGD(params=net.parameters())
        keras_opt = tf.keras.optimizers.Adam()
        """)
        },
        id="aliases",
        lines=(("train.py", 3), ("train.py", 4)),
    ),
    Case(
        "SML011",
        "passed",
        {
            "train.py": py("""
        from sklearn.ensemble import BaggingClassifier, RandomForestClassifier
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.svm import SVC
        from sklearn.tree import DecisionTreeClassifier
        import torch
        search = GridSearchCV(SVC(), {"C": [0.1, 1, 10]})
        pipe = Pipeline([("clf", RandomForestClassifier())])
        tuned = GridSearchCV(pipe, {"clf__max_depth": [4, 8]})
        bag = BaggingClassifier(DecisionTreeClassifier(), n_estimators=500)
        model = RandomForestClassifier(n_estimators=300, max_depth=12)
        opt = torch.optim.AdamW(net.parameters(), lr=3e-4)
        """)
        },
        id="tuned-meta-and-explicit",
    ),
    Case(
        "SML011",
        "failed",
        {
            "nb.ipynb": notebook(
                "from sklearn.cluster import KMeans",
                "KMeans()",
                "km = KMeans()",
            )
        },
        id="notebook-display-is-not-a-model",
        lines=(("nb.ipynb", 5),),
    ),
    Case(
        "SML011",
        "not_applicable",
        {
            "tests": {
                "test_model.py": py("""
        from sklearn.ensemble import RandomForestClassifier
        def test_fit():
            RandomForestClassifier().fit(X, y)
        """)
            }
        },
        id="tests-skipped",
    ),
    # -- SML012 memory not freed ----------------------------------------------------------------
    Case(
        "SML012",
        "failed",
        {
            "search.py": py("""
        from tensorflow import keras
        for units in (32, 64):
            model = keras.Sequential([keras.layers.Dense(units)])
            model.compile(loss="mse")
            model.fit(X, y)
        """)
        },
        lines=(("search.py", 3),),
    ),
    Case(
        "SML012",
        "failed",
        {
            "train.py": py("""
        import torch
        total = 0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss
            losses.append(loss)
        """)
        },
        id="torch-kept-loss",
        lines=(("train.py", 8), ("train.py", 9)),
    ),
    Case(
        "SML012",
        "passed",
        {
            "train.py": py("""
        import tensorflow as tf
        import torch
        for units in (32, 64):
            tf.keras.backend.clear_session()
            model = tf.keras.Sequential([tf.keras.layers.Dense(units)])
            model.fit(X, y)
        blocks = []
        for i in range(3):
            blocks.append(tf.keras.Sequential([tf.keras.layers.Dense(8)]))
        total = 0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            losses.append(float(loss))
        """)
        },
        id="cleared-layers-and-items",
    ),
    Case(
        "SML012",
        "failed",
        {
            "nb.ipynb": notebook(
                "import keras\ndef build_model(n):\n"
                "    return keras.Sequential([keras.layers.Dense(n)])",
                "for n in (8, 16):\n    m = build_model(n)\n    m.fit(X, y)",
            )
        },
        id="notebook-builder",
        lines=(("nb.ipynb", 6),),
    ),
    Case("SML012", "not_applicable", {"a.py": "import numpy\n"}),
    # -- SML013 deterministic algorithms --------------------------------------------------------
    Case("SML013", "failed", {"train.py": TORCH_LOOP}, lines=(("train.py", 6),)),
    Case(
        "SML013",
        "passed",
        {
            "train.py": TORCH_LOOP,
            "utils.py": "import torch\ndef setup():\n"
            "    torch.use_deterministic_algorithms(True)\n",
        },
        id="set-in-another-module",
    ),
    Case(
        "SML013",
        "passed",
        {
            "train.py": "import torch\ntorch.backends.cudnn.deterministic = True\n"
            + TORCH_LOOP.split("\n", 1)[1]
        },
        id="cudnn-flag",
    ),
    Case(
        "SML013",
        "failed",
        {
            "train.py": py("""
        import lightning as L
        trainer = L.Trainer(max_epochs=3)
        """),
            "other.py": py("""
        import pytorch_lightning as pl
        trainer = pl.Trainer(deterministic=True)
        """),
        },
        id="lightning",
        lines=(("train.py", 2),),
    ),
    Case(
        "SML013",
        "failed",
        {
            "nb.ipynb": notebook(TORCH_LOOP),
            "utils.py": "import torch\ntorch.use_deterministic_algorithms(True)\n",
        },
        id="notebook-sets-its-own",
        lines=(("nb.ipynb", 6),),
    ),
    Case("SML013", "not_applicable", {"infer.py": "import torch\ny = model(torch.ones(1))\n"}),
    # -- SML014 randomness uncontrolled ---------------------------------------------------------
    Case(
        "SML014",
        "failed",
        {
            "train.py": py("""
        from sklearn.model_selection import train_test_split, KFold
        from sklearn.ensemble import RandomForestClassifier
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
        model = RandomForestClassifier(n_estimators=10)
        folds = KFold(n_splits=5)
        """)
        },
        lines=(("train.py", 3), ("train.py", 4)),
    ),
    Case(
        "SML014",
        "failed",
        {
            "augment.py": py("""
        import numpy as np
        from numpy import random as npr
        import random
        def jitter(x):
            if random.random() < 0.5:
                return x + npr.normal(0, 1, x.shape)
            return x
        """)
        },
        id="aliases-one-finding-per-file",
        lines=(("augment.py", 5),),
    ),
    Case(
        "SML014",
        "passed",
        {
            "train.py": py("""
        import numpy as np
        from sklearn.model_selection import train_test_split
        np.random.seed(0)
        X_train, X_test = train_test_split(X, test_size=0.2)
        noise = np.random.normal(size=3)
        """)
        },
        id="numpy-seed-controls-sklearn",
    ),
    Case(
        "SML014",
        "passed",
        {
            "utils.py": "import random\nimport numpy as np\nimport torch\ndef set_seed(s):\n"
            "    random.seed(s)\n    np.random.seed(s)\n    torch.manual_seed(s)\n",
            "train.py": "import torch\nfrom utils import set_seed\nset_seed(1)\n",
            "data.py": "import torch\nperm = torch.randperm(10)\n"
            "loader = torch.utils.data.DataLoader(ds, shuffle=True)\n",
        },
        id="seed-helper-in-package",
    ),
    Case(
        "SML014",
        "failed",
        {
            "sample.py": py("""
        import numpy as np
        np.random.seed(0)
        rng = np.random.default_rng()
        """),
            "model.py": "import torch\n",
        },
        id="unseeded-generator",
        lines=(("sample.py", 3),),
    ),
    Case(
        "SML014",
        "failed",
        {
            "seed.py": "import numpy as np\nnp.random.seed(0)\n",
            "eda.ipynb": notebook(
                "import numpy as np\nimport pandas as pd", "x = np.random.rand(3)"
            ),
        },
        id="notebook-seeds-itself",
        lines=(("eda.ipynb", 4),),
    ),
    Case(
        "SML014",
        "failed",
        {
            "data.py": py("""
        import torch
        from torch.utils.data import DataLoader
        loader = DataLoader(dataset, batch_size=32, shuffle=True)
        """)
        },
        id="dataloader",
        lines=(("data.py", 3),),
    ),
    Case(
        "SML014",
        "not_applicable",
        {
            "names.py": py("""
        import random
        import string
        def tmp_name():
            return "".join(random.choices(string.ascii_lowercase, k=8))
        """),
            "tests": {"test_model.py": "import numpy as np\nx = np.random.rand(3)\n"},
        },
        id="non-ml-random-and-tests",
    ),
    Case(
        "SML014",
        "not_applicable",
        {
            "plots.ipynb": notebook(
                "import numpy as np\nimport matplotlib.pyplot as plt",
                "plt.hist(np.random.randn(100))",
            )
        },
        id="numpy-only-plotting",
    ),
    # -- SML015 missing mask of invalid value ---------------------------------------------------
    Case(
        "SML015",
        "failed",
        {
            "loss.py": py("""
        import torch
        import numpy as np
        loss = -(y * torch.log(torch.sigmoid(logits))).mean()
        ll = np.log(probs)
        """)
        },
        lines=(("loss.py", 3), ("loss.py", 4)),
    ),
    Case(
        "SML015",
        "passed",
        {
            "loss.py": py("""
        import torch
        import numpy as np
        import tensorflow as tf
        a = torch.log(p.clamp(min=1e-7))
        b = torch.log(x + eps)
        c = np.log(prices)
        mask = torch.log(torch.tril(torch.ones(3, 3)))
        d = tf.math.log(2.0)
        e = torch.log(q + 1e-8)
        """)
        },
        id="guarded-constant-and-data",
    ),
    Case(
        "SML015",
        "failed",
        {"nb.ipynb": notebook("import tensorflow as tf", "ce = -tf.math.log(y_pred)")},
        id="notebook-tf",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML015", "not_applicable", {"a.py": "import math\nx = math.log(2)\n"}),
    # -- SML016 broadcasting not used -----------------------------------------------------------
    Case(
        "SML016",
        "failed",
        {
            "layer.py": py("""
        import numpy as np
        import tensorflow as tf
        def f(x, b, w):
            bias = np.tile(b, (x.shape[0], 1))
            out = x + bias
            return out * tf.tile(w, [4, 1])
        """)
        },
        lines=(("layer.py", 4), ("layer.py", 6)),
    ),
    Case(
        "SML016",
        "passed",
        {
            "layer.py": py("""
        import numpy as np
        import torch
        pattern = np.tile(b, 3)
        print(pattern)
        idx = torch.arange(5).view(1, 5).repeat(3, 1) + 1
        out = x + b
        """)
        },
        id="tile-kept-or-scalar",
    ),
    Case(
        "SML016",
        "failed",
        {"nb.ipynb": notebook("import numpy as onp", "w = onp.tile(v, (8, 1))\ny = X * w")},
        id="notebook-alias",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML016", "not_applicable", {"a.py": "x = 1\n"}),
    # -- SML017 TensorArray not used ------------------------------------------------------------
    Case(
        "SML017",
        "failed",
        {
            "gen.py": py("""
        import tensorflow as tf
        out = tf.zeros((0, 4))
        for step in range(10):
            out = tf.concat([out, f(step)], axis=0)
        """)
        },
        lines=(("gen.py", 4),),
    ),
    Case(
        "SML017",
        "passed",
        {
            "gen.py": py("""
        import tensorflow as tf
        ta = tf.TensorArray(tf.float32, size=10)
        for step in range(10):
            ta = ta.write(step, f(step))
            pair = tf.concat([a, b], axis=0)
        out = tf.concat([x, y], axis=0)
        """)
        },
        id="tensorarray",
    ),
    Case(
        "SML017",
        "failed",
        {
            "nb.ipynb": notebook(
                "from tensorflow import concat",
                "seq = start\nwhile len(seq) < 10:\n    seq = concat([seq, step(seq)], 0)",
            )
        },
        id="notebook-while",
        lines=(("nb.ipynb", 5),),
    ),
    Case("SML017", "not_applicable", {"gen.py": "import torch\n"}),
    # -- SML018 train/eval toggling -------------------------------------------------------------
    Case(
        "SML018",
        "failed",
        {
            "train.py": py("""
        import torch
        model.train()
        for epoch in range(3):
            for x, y in loader:
                optimizer.zero_grad()
                loss = crit(model(x), y)
                loss.backward()
                optimizer.step()
            model.eval()
            score = accuracy(model, val_loader)
        """)
        },
        lines=(("train.py", 9),),
    ),
    Case(
        "SML018",
        "failed",
        {
            "train.py": py("""
        import torch
        def evaluate(model, loader):
            model.eval()
            with torch.no_grad():
                return sum(model(x).sum() for x in loader)
        for epoch in range(3):
            for x, y in loader:
                optimizer.zero_grad()
                loss = crit(model(x), y)
                loss.backward()
                optimizer.step()
            evaluate(model, val_loader)
        """)
        },
        id="via-function",
        lines=(("train.py", 12),),
    ),
    Case(
        "SML018",
        "failed",
        {
            "train.py": py("""
        import torch
        def validate(model, loader):
            total = 0
            for x, y in loader:
                total += crit(model(x), y).item()
            return total
        for epoch in range(3):
            for x, y in loader:
                optimizer.zero_grad()
                loss = crit(model(x), y)
                loss.backward()
                optimizer.step()
            validate(model, val_loader)
        """)
        },
        id="eval-in-train-mode",
        lines=(("train.py", 2),),
    ),
    Case(
        "SML018",
        "passed",
        {
            "train.py": py("""
        import torch
        @torch.no_grad()
        def validate(model, loader):
            model.eval()
            return [model(x) for x, _ in loader]
        for epoch in range(3):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                loss = crit(model(x), y)
                loss.backward()
                optimizer.step()
            validate(model, val_loader)
        """)
        },
    ),
    Case(
        "SML018",
        "failed",
        {
            "nb.ipynb": notebook(
                "import torch",
                "for epoch in range(2):\n    for x, y in dl:\n        opt.zero_grad()\n"
                "        crit(net(x), y).backward()\n        opt.step()\n    net.eval()",
            )
        },
        id="notebook",
        lines=(("nb.ipynb", 8),),
    ),
    Case("SML018", "not_applicable", {"infer.py": "import torch\nmodel.eval()\n"}),
    # -- SML019 forward called directly ---------------------------------------------------------
    Case(
        "SML019",
        "failed",
        {
            "model.py": py("""
        import torch.nn as nn
        class Net(nn.Module):
            def forward(self, x):
                return self.encoder.forward(x)
        logits = model.forward(batch)
        """)
        },
        lines=(("model.py", 4), ("model.py", 5)),
    ),
    Case(
        "SML019",
        "passed",
        {
            "model.py": py("""
        import cv2
        import torch.nn as nn
        class Net(nn.Linear):
            def __init__(self, path):
                self.net = cv2.dnn.readNetFromONNX(path)
            def forward(self, x):
                y = super().forward(x)
                z = nn.Linear.forward(self, x)
                w = self.net.forward()
                return rref.rpc_sync().forward(y)
        """),
            "tests": {"test_model.py": "import torch\nout = model.forward(x)\n"},
        },
        id="super-class-foreign-and-tests",
    ),
    Case(
        "SML019",
        "failed",
        {"nb.ipynb": notebook("import torch", "out = net.forward(x)")},
        id="notebook",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML019", "not_applicable", {"nav.py": "browser.forward()\n"}),
    # -- SML020 zero_grad missing ---------------------------------------------------------------
    Case(
        "SML020",
        "failed",
        {
            "train.py": py("""
        import torch
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        """)
        },
        lines=(("train.py", 4),),
    ),
    Case(
        "SML020",
        "passed",
        {
            "train.py": py("""
        import torch
        import torch.distributed.autograd as dist_autograd
        def reset_grad():
            d_optimizer.zero_grad()
        for i, (x, y) in enumerate(loader):
            loss = criterion(model(x), y) / accum
            scaler.scale(loss).backward()
            if (i + 1) % accum == 0:
                scaler.step(optimizer)
                optimizer.zero_grad(set_to_none=True)
        for x in loader:
            d_loss = crit(D(x))
            reset_grad()
            d_loss.backward()
            d_optimizer.step()
        while True:
            for micro in range(4):
                loss.backward()
            opt.step()
            for p in model.parameters():
                p.grad = None
        for x in loader:
            dist_autograd.backward(ctx, [loss])
            dist_optim.step(ctx)
        """)
        },
        id="accumulation-helper-and-nanogpt",
    ),
    Case(
        "SML020",
        "failed",
        {
            "nb.ipynb": notebook(
                "import torch",
                "for x, y in dl:\n    crit(net(x), y).backward()\n    opt_g.step()",
            )
        },
        id="notebook",
        lines=(("nb.ipynb", 4),),
    ),
    Case("SML020", "not_applicable", {"train.py": "import torch\nlr_scheduler.step()\n"}),
    # -- SML021 data leakage --------------------------------------------------------------------
    Case(
        "SML021",
        "failed",
        {
            "train.py": py("""
        from sklearn.preprocessing import StandardScaler
        from sklearn.model_selection import train_test_split
        X_scaled = StandardScaler().fit_transform(X)
        X_train, X_test, y_train, y_test = train_test_split(X_scaled, y, random_state=0)
        """)
        },
        lines=(("train.py", 3),),
    ),
    Case(
        "SML021",
        "failed",
        {
            "select.py": py("""
        from sklearn.feature_selection import SelectKBest
        from sklearn.model_selection import cross_val_score
        selector = SelectKBest(k=10)
        X_sel = selector.fit_transform(X_train, y_train)
        scores = cross_val_score(clf, X_sel, y_train, cv=5)
        """)
        },
        id="selection-before-cv",
        lines=(("select.py", 4),),
    ),
    Case(
        "SML021",
        "failed",
        {
            "prep.py": py("""
        from sklearn.preprocessing import MinMaxScaler as MMS
        from sklearn.model_selection import train_test_split
        scaler = MMS()
        scaler.fit(X)
        X_train, X_test = train_test_split(X, random_state=0)
        X_train = scaler.transform(X_train)
        """)
        },
        id="fit-all-transform-parts",
        lines=(("prep.py", 4),),
    ),
    Case(
        "SML021",
        "failed",
        {
            "prep.py": py("""
        from sklearn.preprocessing import StandardScaler
        from sklearn.model_selection import train_test_split
        import torch
        X = StandardScaler().fit_transform(X)
        X_t = torch.tensor(X, dtype=torch.float32)
        X_train, X_test = train_test_split(X_t, random_state=0)
        """)
        },
        id="derived-data",
        lines=(("prep.py", 4),),
    ),
    Case(
        "SML021",
        "passed",
        {
            "prep.py": py("""
        from sklearn.preprocessing import StandardScaler
        from sklearn.model_selection import train_test_split
        X_s = StandardScaler().fit_transform(X)
        plot(X_s)
        X_s = load_holdout()
        X_train, X_test = train_test_split(X_s, random_state=0)
        """)
        },
        id="rebound-to-other-data",
    ),
    Case(
        "SML021",
        "passed",
        {
            "train.py": py("""
        from sklearn.decomposition import PCA
        from sklearn.model_selection import GridSearchCV, train_test_split, cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        X2D = PCA(n_components=2).fit_transform(X)
        plot(X2D)
        search = GridSearchCV(make_pipeline(PCA(), clf), grid)
        search.fit(X, y)
        X_s = StandardScaler().fit_transform(X)
        X = load_other()
        cross_val_score(make_pipeline(StandardScaler(), clf), X, y)
        """)
        },
        id="split-first-plots-and-rebinding",
    ),
    Case(
        "SML021",
        "failed",
        {
            "nb.ipynb": notebook(
                "from imblearn.over_sampling import SMOTE\n"
                "from sklearn.model_selection import train_test_split",
                "X_res, y_res = SMOTE().fit_resample(X, y)",
                "X_train, X_test, y_train, y_test = train_test_split(X_res, y_res)",
            )
        },
        id="notebook-oversampling",
        lines=(("nb.ipynb", 4),),
    ),
    Case("SML021", "not_applicable", {"a.py": "import torch\n"}),
    # -- SML022 threshold-dependent validation --------------------------------------------------
    Case(
        "SML022",
        "failed",
        {
            "evaluate.py": py("""
        from sklearn.metrics import f1_score, precision_score
        print(f1_score(y_test, pred))
        print(precision_score(y_test, pred, average="binary"))
        """)
        },
        lines=(("evaluate.py", 2), ("evaluate.py", 3)),
    ),
    Case(
        "SML022",
        "passed",
        {
            "evaluate.py": "from sklearn import metrics\nprint(metrics.f1_score(y_test, pred))\n",
            "report.py": "from sklearn.metrics import roc_auc_score\nauc = roc_auc_score(y, s)\n",
        },
        id="auc-elsewhere",
    ),
    Case(
        "SML022",
        "not_applicable",
        {
            "evaluate.py": py("""
        from sklearn.metrics import accuracy_score, f1_score
        acc = accuracy_score(y_test, pred)
        f1 = f1_score(y_test, pred, average="macro")
        """)
        },
        id="multiclass",
    ),
    Case(
        "SML022",
        "failed",
        {
            "train.py": py("""
        import torch
        from sklearn.metrics import accuracy_score
        from torchmetrics.classification import BinaryF1Score
        criterion = torch.nn.BCEWithLogitsLoss()
        acc = accuracy_score(y, (p > 0.5).int())
        f1 = BinaryF1Score()
        """)
        },
        id="binary-hints-and-torchmetrics",
        lines=(("train.py", 5), ("train.py", 6)),
    ),
    Case(
        "SML022",
        "passed",
        {
            "nb.ipynb": notebook(
                "from sklearn.metrics import recall_score",
                "r = recall_score(y, p)",
                "search = GridSearchCV(clf, grid, scoring='roc_auc')",
            )
        },
        id="notebook-scoring-string",
    ),
]
