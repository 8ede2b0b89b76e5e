"""Cases for SML001-SML009: data-cleaning smells of pandas and NumPy code.

Notebook lines are lines of the joined source: each code cell's lines, then one blank line.
Inline suppressions (``# steward: ignore[SML002]``) were checked by hand: the rule then passes
but the shared runner still counts the suppressed finding, so no case pins them here.
"""

import textwrap

from rulecases import Case

from repo_builder import notebook


def py(text: str) -> str:
    """Source from an indented triple-quoted block; its first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    # -- SML001 unnecessary iteration -----------------------------------------------------------
    Case(
        "SML001",
        "failed",
        {
            "clean.py": py("""
        import pandas as pd
        df = pd.read_csv("sales.csv")
        for i, row in df.iterrows():
            df.at[i, "total"] = row["price"] * row["qty"]
        df["margin"] = df.apply(lambda r: r["price"] - r["cost"], axis=1)
        """)
        },
        lines=(("clean.py", 3), ("clean.py", 5)),
    ),
    Case(
        "SML001",
        "failed",
        {
            "agg.py": py("""
        from pandas import read_csv
        orders = read_csv("o.csv")
        total = 0
        for row in orders.itertuples():
            total += row.price
        """)
        },
        id="accumulate-itertuples",
        lines=(("agg.py", 4),),
    ),
    Case(
        "SML001",
        "passed",
        {
            "clean.py": py("""
        import pandas as pd
        df = pd.read_csv("sales.csv")
        df["total"] = df["price"] * df["qty"]
        for i, row in df.iterrows():
            send_invoice(row["customer"], row["total"])
        for i, row in df.iterrows():
            df.at[i, "status"] = requests.get(row["url"]).status_code
        df["label"] = df.apply(lambda r: classify(r["text"]), axis=1)
        """)
        },
        id="per-row-side-effects",
    ),
    Case(
        "SML001",
        "failed",
        {
            "eda.ipynb": notebook(
                "import pandas as pd\ndf = pd.read_csv('x.csv')",
                "%time\ndf['s'] = df.apply(lambda r: r.a + r.b, axis=1)",
            )
        },
        id="notebook",
        lines=(("eda.ipynb", 5),),
    ),
    Case("SML001", "not_applicable", {"train.py": "import numpy as np\n"}),
    # -- SML002 NaN equality --------------------------------------------------------------------
    Case(
        "SML002",
        "failed",
        {
            "clean.py": py("""
        import numpy as np
        import math
        missing = df[df["age"] == np.nan]
        if x != math.nan:
            pass
        y = value == float("nan")
        """)
        },
        lines=(("clean.py", 3), ("clean.py", 4), ("clean.py", 6)),
    ),
    Case(
        "SML002",
        "failed",
        {
            "tests": {
                "test_clean.py": py("""
        from numpy import nan
        def test_x():
            assert result == nan
        """)
            }
        },
        id="alias-in-tests",
        lines=(("tests/test_clean.py", 3),),
    ),
    Case(
        "SML002",
        "passed",
        {
            "clean.py": py("""
        import numpy as np
        missing = df[df["age"].isna()]
        same = np.isnan(x)
        nan_label = "nan" == label
        """)
        },
    ),
    Case(
        "SML002",
        "failed",
        {"nb.ipynb": notebook("import pandas as pd", "s = df[df.a != pd.NA]")},
        id="notebook",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML002", "not_applicable", {"app.py": "x = 1\n"}),
    # -- SML003 chain indexing ------------------------------------------------------------------
    Case(
        "SML003",
        "failed",
        {
            "clean.py": py("""
        import pandas as pd
        sales = pd.read_csv("sales.csv")
        sales[sales["qty"] < 0]["qty"] = 0
        df = sales.copy()
        df["a"][0] = 1
        total = df[df["x"] > 1]["y"].sum()
        """)
        },
        lines=(("clean.py", 3), ("clean.py", 5), ("clean.py", 6)),
    ),
    Case(
        "SML003",
        "passed",
        {
            "clean.py": py("""
        import pandas as pd
        df = pd.read_csv("sales.csv")
        df.loc[df["qty"] < 0, "qty"] = 0
        first = df["a"][0]
        config = {"a": {"b": 1}}
        config["a"]["b"] = 2
        dfs = [df]
        dfs[0]["a"] = 1
        """)
        },
        id="dicts-and-lists-are-not-frames",
    ),
    Case(
        "SML003",
        "failed",
        {
            "nb.ipynb": notebook(
                "import pandas as pd\ntrain_df = pd.DataFrame({'a': [1]})",
                "train_df['a']['x'] = 2",
            )
        },
        id="notebook",
        lines=(("nb.ipynb", 4),),
    ),
    Case("SML003", "not_applicable", {"clean.py": "config['a']['b'] = 1\n"}),
    # -- SML004 columns and dtypes (production only) --------------------------------------------
    Case(
        "SML004",
        "failed",
        {
            "load.py": py("""
        import pandas as pd
        orders = pd.read_csv(path)
        people = pd.read_excel(path, sheet_name=0)
        """)
        },
        lines=(("load.py", 2), ("load.py", 3)),
    ),
    Case(
        "SML004",
        "passed",
        {
            "load.py": py("""
        import pandas as pd
        orders = pd.read_csv(path, usecols=["id", "qty"], dtype={"id": "string", "qty": "int32"})
        people = pd.read_csv(path, dtype=SCHEMA)
        """),
            "eda.ipynb": notebook("import pandas as pd\ndf = pd.read_csv('x.csv')"),
        },
        id="declared-and-notebooks-left-out",
    ),
    Case(
        "SML004",
        "failed",
        {"etl.py": "from pandas import read_csv as rc\nframe = rc('x.csv', sep=';')\n"},
        id="alias",
        lines=(("etl.py", 2),),
    ),
    Case("SML004", "not_applicable", {"load.py": "import numpy as np\n"}),
    # -- SML005 empty column initialisation -----------------------------------------------------
    Case(
        "SML005",
        "failed",
        {
            "features.py": py("""
        import pandas as pd
        df = pd.read_csv("x.csv")
        df["note"] = ""
        df["score"] = 0
        for i, row in df.iterrows():
            df.at[i, "score"] = compute(row)
        """)
        },
        lines=(("features.py", 3), ("features.py", 4)),
    ),
    Case(
        "SML005",
        "passed",
        {
            "features.py": py("""
        import numpy as np
        import pandas as pd
        df = pd.read_csv("x.csv")
        df["score"] = np.nan
        df["label"] = 0
        df.loc[df["churned"], "label"] = 1
        """)
        },
        id="zero-default-filled-by-mask",
    ),
    Case(
        "SML005",
        "failed",
        {"nb.ipynb": notebook("import pandas as pd", "df['comment'] = None")},
        id="notebook",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML005", "not_applicable", {"a.py": "row = {}\nrow['x'] = ''\n"}),
    # -- SML006 merge parameters ----------------------------------------------------------------
    Case(
        "SML006",
        "failed",
        {
            "join.py": py("""
        import pandas as pd
        from pandas import merge
        orders = pd.read_csv("o.csv")
        full = orders.merge(customers)
        both = merge(orders, items, how="left")
        keyed = pd.merge(orders, items, on="id", how="left")
        """)
        },
        lines=(("join.py", 4), ("join.py", 5)),
    ),
    Case(
        "SML006",
        "passed",
        {
            "join.py": py("""
        import pandas as pd
        from omegaconf import OmegaConf
        orders = pd.read_csv("o.csv")
        full = orders.merge(customers, how="left", on="customer_id", validate="many_to_one")
        idx = pd.merge(a, b, left_index=True, right_index=True, how="inner", validate="1:1")
        cfg = OmegaConf.merge(base, override)
        merged = config.merge(other)
        """)
        },
        id="explicit-and-non-pandas",
    ),
    Case(
        "SML006",
        "failed",
        {
            "nb.ipynb": notebook(
                "import pandas as pd\ndf = pd.read_csv('a')", "df2 = df.merge(other, on='id')"
            )
        },
        id="notebook",
        lines=(("nb.ipynb", 4),),
    ),
    # -- SML007 in-place misuse -----------------------------------------------------------------
    Case(
        "SML007",
        "failed",
        {
            "clean.py": py("""
        import pandas as pd
        df = pd.read_csv("x.csv")
        df.drop(columns=["id"])
        df = df.fillna(0, inplace=True)
        df.dropna(inplace=True)
        """)
        },
        lines=(("clean.py", 3), ("clean.py", 4)),
    ),
    Case(
        "SML007",
        "passed",
        {
            "clean.py": py("""
        import pandas as pd
        df = pd.read_csv("x.csv")
        df = df.drop(columns=["id"])
        df.dropna(inplace=True)
        text.replace("a", "b")
        try:
            df.drop(columns=["missing"])
        except KeyError:
            pass
        """)
        },
        id="assigned-inplace-and-strings",
    ),
    Case(
        "SML007",
        "passed",
        {
            "eda.ipynb": notebook(
                "import pandas as pd\ndf = pd.read_csv('x.csv')",
                "df.sort_values('a')",
            )
        },
        id="notebook-cell-display",
    ),
    Case(
        "SML007",
        "failed",
        {
            "eda.ipynb": notebook(
                "import pandas as pd\ndf = pd.read_csv('x.csv')",
                "df.sort_values('a')\nprint(df)",
            )
        },
        id="notebook-not-last",
        lines=(("eda.ipynb", 4),),
    ),
    # -- SML008 .values -------------------------------------------------------------------------
    Case(
        "SML008",
        "failed",
        {
            "prep.py": py("""
        import pandas as pd
        data = pd.read_csv("x.csv")
        X = data.drop(columns=["y"]).values
        y = data["y"].values
        """)
        },
        lines=(("prep.py", 3), ("prep.py", 4)),
    ),
    Case(
        "SML008",
        "passed",
        {
            "prep.py": py("""
        import pandas as pd
        data = pd.read_csv("x.csv")
        X = data.to_numpy()
        for v in mapping.values():
            print(v)
        arr = tensor.values
        """)
        },
        id="dict-values-and-other-objects",
    ),
    Case(
        "SML008",
        "failed",
        {"nb.ipynb": notebook("import pandas as pd", "x = df_train.values")},
        id="notebook-df-name",
        lines=(("nb.ipynb", 3),),
    ),
    Case("SML008", "not_applicable", {"a.py": "x = obj.values\n"}),
    # -- SML009 matrix multiplication -----------------------------------------------------------
    Case(
        "SML009",
        "failed",
        {
            "linalg.py": py("""
        import numpy as np
        W = np.random.rand(3, 4)
        h = np.dot(X, W.T)
        theta = np.linalg.inv(X_b.T.dot(X_b)).dot(X_b.T).dot(y)
        """)
        },
        lines=(("linalg.py", 3), ("linalg.py", 4)),
    ),
    Case(
        "SML009",
        "passed",
        {
            "linalg.py": py("""
        import numpy as np
        import pandas as pd
        score = np.dot(weights, features)
        h = X @ W.T
        df = pd.read_csv("x.csv")
        out = df.dot(other)
        """)
        },
        id="vectors-and-frames",
    ),
    Case(
        "SML009",
        "failed",
        {"nb.ipynb": notebook("from numpy import dot, eye", "A = eye(3)\nB = dot(A, v)")},
        id="notebook-from-import",
        lines=(("nb.ipynb", 4),),
    ),
    Case("SML009", "not_applicable", {"a.py": "x = a.dot(b)\n"}),
    Case("SML006", "not_applicable", {"cfg.py": "merged = base.merge(override)\n"}),
    Case("SML007", "not_applicable", {"s.py": "text.replace('a', 'b')\n"}),
]
