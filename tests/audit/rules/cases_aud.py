"""Cases for AUD rules: problems met while reading a repository."""

from rulecases import Case

from repo_builder import Link, notebook

CASES = [
    Case("AUD001", "passed", {"train.py": "x = 1\n"}),
    Case("AUD001", "failed", {"train.py": b"x = 1\x00\x01\x02\n"}, id="binary"),
    Case("AUD001", "failed", {"train.py": "x = 'caf\xe9'\n".encode("latin-1")}, id="latin1"),
    Case(
        "AUD002",
        "passed",
        {"train.py": "x = 1\n", "nb.ipynb": notebook("%matplotlib inline\nx = 1")},
    ),
    Case("AUD002", "failed", {"train.py": "def f(:\n    pass\n"}, lines=(("train.py", 1),)),
    Case("AUD002", "failed", {"nb.ipynb": "{not json"}, id="notebook"),
    Case("AUD003", "passed", {".github/workflows/ci.yml": "on: push\njobs: {}\n"}),
    Case("AUD003", "failed", {".github/workflows/ci.yml": "on: push\njobs:\n\t- bad: [\n"}),
    Case("AUD004", "passed", {"a.py": "x = 1\n", "b.py": Link("a.py")}),
    Case("AUD004", "failed", {"a.py": "x = 1\n", "data": Link("/etc")}, id="outside"),
    Case("AUD004", "failed", {"a.py": "x = 1\n", "loop": Link("loop")}, id="loop"),
    Case(
        "AUD004", "failed", {"a.py": "x = 1\n", "gone": Link("missing.csv")}, id="broken", git=True
    ),
]

# inline suppressions make a smell rule pass (the engine applies them to every code rule)
CASES += [
    Case(
        "SML002",
        "passed",
        {
            "clean.py": "import numpy as np\nimport pandas as pd\n"
            "def f(df):\n"
            "    return df[df.x == np.nan]  # steward: ignore[SML002] fixture on purpose\n"
        },
        id="inline-ignore",
    ),
    Case(
        "SML002",
        "failed",
        {
            "clean.py": "import numpy as np\nimport pandas as pd\n"
            "def f(df):\n    return df[df.x == np.nan]  # steward: ignore[SML003] another rule\n"
        },
        id="ignore-of-another-code",
        lines=(("clean.py", 4),),
    ),
]
