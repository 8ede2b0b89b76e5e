"""VCS: version control of code, data, models and configuration.

Git itself (a repository, no large blobs in its history), data and model files kept out
of git or in LFS/DVC, a DVC remote and a committed dvc.lock when DVC is used, data read
from shared locations rather than one machine's home directory, and training
configuration kept in tracked files. SE-ML practice 22 ("use versioning for data, model,
configurations and training scripts") and 8 ("make data sets available on shared
infrastructure") are the ones most of these rules evidence.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.files import glob_match
from mlsteward.audit.facts.git import LARGE_BLOB_BYTES
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

#: a data or model file at least this large does not belong in plain git
DATA_FILE_BYTES = 1_000_000
_MAX_HITS = 50

#: extensions of data sets, serialised models and archives of them
DATA_EXTENSIONS = (
    ".csv", ".tsv", ".parquet", ".pq", ".feather", ".arrow", ".orc", ".avro", ".jsonl",
    ".ndjson", ".xlsx", ".xls", ".h5", ".hdf5", ".hdf", ".nc", ".mat", ".npy", ".npz",
    ".pkl", ".pickle", ".joblib", ".sav", ".dill", ".pt", ".pth", ".ckpt", ".bin",
    ".safetensors", ".onnx", ".pb", ".tflite", ".keras", ".gguf", ".ggml", ".mlmodel",
    ".caffemodel", ".weights", ".model", ".tfrecord", ".tfrecords", ".lmdb", ".db",
    ".sqlite", ".sqlite3", ".zip", ".tar", ".tar.gz", ".tgz", ".gz", ".bz2", ".xz", ".7z",
    ".rar", ".dat",
)  # fmt: skip

_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")
_DATA_LIBS = (
    "numpy", "pandas", "polars", "pyarrow", "torch", "tensorflow", "keras", "sklearn", "jax",
    "xgboost", "lightgbm", "datasets", "transformers", "h5py", "scipy",
)  # fmt: skip
_DATA_DIRS = frozenset({"data", "dataset", "datasets", "raw_data", "input_data"})
_DATA_TOOLS = {
    "dvc.api": "DVC's Python API (dvc.api)",
    "deltalake": "Delta Lake tables (deltalake)",
    "delta": "Delta Lake tables (delta-spark)",
    "lakefs": "lakeFS",
    "lakefs_client": "lakeFS",
    "lakefs_sdk": "lakeFS",
    "lakefs_spec": "lakeFS",
    "quilt3": "Quilt data packages",
    "datalad": "DataLad",
    "python_pachyderm": "Pachyderm",
    "pachyderm_sdk": "Pachyderm",
}
#: calls that fetch a public data set (versioned, if at all, by its publisher)
_PUBLIC_DATA = (
    "torchvision.datasets.",
    "torchtext.datasets.",
    "torchaudio.datasets.",
    "keras.datasets.",
    "tensorflow.keras.datasets.",
    "tensorflow_datasets.load",
    "sklearn.datasets.fetch_",
    "datasets.load_dataset",
    "torch.hub.download_url_to_file",
    "urllib.request.urlretrieve",
    "gdown.download",
    "wget.download",
    "keras.utils.get_file",
    "tensorflow.keras.utils.get_file",
    "kaggle.api.",
)
_PUBLIC_DATA_LIBS = tuple(
    {p.split(".")[0] for p in _PUBLIC_DATA} | {"tensorflow", "torchtext", "torchaudio", "kaggle"}
)
_DVC_CI = re.compile(r"\bdvc\s+(pull|fetch|repro|exp\s+run|checkout|update|get|import)\b")

# user-specific absolute paths: one person's machine, whatever the call
_HOME_PATH = re.compile(
    r"^(?:/home/[^/\s]+/|/Users/[^/\s]+/|/content/drive/|[A-Za-z]:(?:\\\\?|/)Users(?:\\\\?|/))"
)
# machine-specific mounts: flagged only where a file is opened, read or listed
# (not /tmp, /data or /srv: in containerised code those are scratch space or mounted volumes)
_MOUNT_PATH = re.compile(r"^(?:/mnt/|/media/|/scratch/|/nfs/|[A-Za-z]:(?:\\|/))")
_REMOTE_IN_TEXT = re.compile(
    r"[\'\"]((?:s3a?|gs|gcs|az|abfss?|wasbs?|hdfs|hf|dvc|lakefs|oss|r2)://[\w.-][\w./-]*)[\'\"]"
)
#: a quoted string that starts like one of the paths above (a cheap test before parsing)
_CANDIDATE = re.compile(
    r"[\'\"](?:/home/|/Users/|/content/drive|/mnt/|/media/|/scratch/|/nfs/|[A-Za-z]:[\\/])"
)
#: calls whose argument is a file or folder to read, write or list
_IO_CALLS = frozenset(
    {
        "open", "read_csv", "read_table", "read_parquet", "read_json", "read_excel",
        "read_feather", "read_pickle", "read_hdf", "read_orc", "read_fwf", "scan_csv",
        "scan_parquet", "load", "loadtxt", "genfromtxt", "fromfile", "memmap", "load_model",
        "from_pretrained", "load_dataset", "load_from_disk", "imread", "File",
        "TFRecordDataset", "image_dataset_from_directory", "ImageFolder", "listdir", "scandir",
        "walk", "glob", "iglob", "to_csv", "to_parquet", "to_pickle", "to_feather", "save",
        "savez", "savetxt", "dump", "save_model", "save_pretrained", "exists", "isfile",
        "isdir", "makedirs", "chdir", "copy", "copyfile", "copytree", "connect",
        "SummaryWriter", "ModelCheckpoint",
    }
)  # fmt: skip
#: calls that only build a path: look through them to where the path is used
_PATH_BUILDERS = frozenset({"join", "Path", "PurePath", "expanduser", "abspath", "realpath"})
_PATHY_NAME = re.compile(r"(path|dir|file|root|folder|data|ckpt|checkpoint|model)", re.I)

_CONFIG_DIRS = frozenset(
    {"conf", "config", "configs", "cfg", "cfgs", "hparams", "hyperparams", "hyps",
     "experiments", "exp_configs", "params"}
)  # fmt: skip
#: folders of deployment, infrastructure, front-end and test data: their configs are not training's
_NOT_ML_DIRS = frozenset(
    {"infra", "infrastructure", "charts", "helm", "k8s", "kubernetes", "manifests", "kustomize",
     "deploy", "deployment", "terraform", ".prow", "frontend", "ui", "web", "swagger", "operator",
     "docker", "testdata", "test_data", "fixtures", "tests", "test", "mock-backend", "go", "java"}
)  # fmt: skip
_CONFIG_EXTS = (".yaml", ".yml", ".json", ".toml", ".gin", ".cfg", ".ini", ".py", ".jsonnet")
_CONFIG_NAMES = re.compile(
    r"(config|hparams?|hyperparam|params|hyp)[\w.-]*\.(ya?ml|json|toml|gin)$", re.I
)
_NOT_TRAINING_CONFIG = re.compile(
    r"(^|/)(\.github|\.gitlab|\.circleci|\.devcontainer|\.vscode|\.idea|docs?|\.dvc)/|"
    r"(^|/)(\.pre-commit-config|mkdocs|\.readthedocs|codecov|\.codecov|docker-compose|"
    r"environment|dvc|\.gitlab-ci|azure-pipelines|tsconfig|package|\.?eslintrc|"
    r"\.markdownlint|\.yamllint|renovate|dependabot|__init__|setup|conftest)\.[\w.]+$",
    re.I,
)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _committed_data(facts: Facts) -> list[str]:
    """Data and model files that git tracks (every indexed one outside git)."""
    files = facts.files
    data = [f for f in files.files if _is_data_file(f) and files.is_tracked(f)]
    if not facts.python.importers(*_DATA_LIBS):
        # without data or ML code an archive is a document or a release, not a data set
        data = [f for f in data if not f.lower().endswith(_ARCHIVES)]
    return data


def _lfs_patterns(facts: Facts) -> list[tuple[str, str]]:
    """(folder, pattern) of every LFS rule in every .gitattributes, git repository or not.

    `GitFacts.lfs_patterns` reads only the root file and only inside a git work tree; an
    exported copy of a repository keeps its .gitattributes, and nested ones apply to
    their own folder.
    """
    out: list[tuple[str, str]] = []
    for rel in facts.files.named(".gitattributes"):
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for line in (facts.files.read_text(rel) or "").splitlines():
            parts = line.split()
            if parts and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
                out.append((folder, parts[0]))
    return out


def _lfs(rel: str, patterns: list[tuple[str, str]]) -> bool:
    for folder, pattern in patterns:
        if folder and not rel.startswith(folder + "/"):
            continue
        sub = rel[len(folder) + 1 :] if folder else rel
        if glob_match(sub, pattern.lstrip("/")):
            return True
    return False


def _is_data_file(rel: str) -> bool:
    return rel.lower().endswith(DATA_EXTENSIONS)


@rule(
    code="VCS001",
    name="no-version-control",
    title="The project is under version control",
    severity="high",
    practices=("seml-22", "seml-35"),
)
def no_version_control(facts: Facts) -> Outcome:
    """## What it finds
    A project directory that is not a git (or Mercurial, Subversion) working copy.

    ## Why it matters
    Versioning training scripts, configuration and the references to data is the base
    of SE-ML practice 22: without it no model can be traced back to the code that made
    it. A hosted remote (GitHub, GitLab, ...) is also where practice 35, a collaborative
    development platform, starts.

    ## Example
    A folder of notebooks and scripts copied between machines, `train_v2_final.py`.

    ## Instead
    ```sh
    git init && git add . && git commit -m "Start versioning"
    git remote add origin git@github.com:team/project.git && git push -u origin main
    ```
    """
    git = facts.git
    if git.is_repo:
        count = f", {git.commit_count} commits" if git.commit_count is not None else ""
        where = f" on branch {git.branch}" if git.branch else ""
        evidence = [Evidence(f"git work tree{where}{count}", Strength.PRESENT)]
        if git.host is not None:
            evidence.append(Evidence(f"remote hosted on {git.host}", Strength.PRESENT))
        note = "" if git.remotes else "no remote configured: the history lives on one machine"
        return Outcome.passed(*evidence, note=note)
    for vcs in (".hg", ".svn"):
        if (facts.root / vcs).is_dir():
            return Outcome.passed(Evidence(f"{vcs[1:]} working copy", Strength.PRESENT))
    # auditing a sub-project: the repository starts further up
    for up, parent in enumerate(facts.root.parents, 1):
        if (parent / ".git").exists():
            return Outcome.passed(
                Evidence(f"inside a git work tree ({up} folder(s) up)", Strength.PRESENT),
                note="audit the repository root for the git history checks",
            )
    traces = [f for f in (".gitignore", ".gitattributes") if facts.files.exists(f)]
    traces += [d for d in (".github", ".gitlab") if facts.files.is_dir(d)]
    if traces:
        return Outcome.unknown(
            f"no .git here, but {', '.join(traces)} suggest(s) an exported copy of a git "
            "repository; audit a clone to check version control"
        )
    anchor = facts.files.anchor()
    if anchor is None:
        return Outcome.not_applicable("empty directory")
    return Outcome.failed(
        Hit("the project is not under version control; run `git init` and commit it", anchor),
        note="no .git, .hg or .svn",
    )


@rule(
    code="VCS002",
    name="large-blobs-in-history",
    title="No large files in the git history",
    severity="medium",
    practices=("seml-22",),
)
def large_blobs_in_history(facts: Facts) -> Outcome:
    """## What it finds
    Files of 10 MB or more stored anywhere in the git history (every branch and tag),
    including ones deleted since: they stay in every clone.

    ## Why it matters
    Data sets and model weights committed to plain git make every clone slow and the
    history impossible to shrink without rewriting it. SE-ML practice 22 asks to version
    data and models with tools made for them (git LFS, DVC), keeping git for code.

    ## Example
    `git add data/train.csv models/model.pt` with a 200 MB CSV and a 400 MB checkpoint.

    ## Instead
    ```sh
    git lfs track "*.pt"            # or: dvc add data/train.csv
    git lfs migrate import --include="*.pt,*.csv" --everything   # rewrite the history
    ```
    """
    git = facts.git
    if not git.is_repo:
        return Outcome.not_applicable("not a git repository")
    blobs = git.large_blobs
    if not blobs:
        return Outcome.passed(
            Evidence(
                f"no blob of {_mb(LARGE_BLOB_BYTES)} or more in the history"
                + (f" ({git.commit_count} commits)" if git.commit_count else ""),
                Strength.PRESENT,
            )
        )
    hits = []
    for blob in blobs[:_MAX_HITS]:
        name = blob.path or blob.oid[:12]
        present = facts.files.exists(blob.path)
        path = blob.path if present else facts.files.anchor(".gitattributes", ".gitignore")
        fix = "track it with git LFS or DVC" + (
            "" if present else " (it is deleted but still in history)"
        )
        hits.append(
            Hit(
                f"{name} ({_mb(blob.size)}) is stored in git history; {fix}",
                path,
                context=f"{name} {blob.oid}",
            )
        )
    more = len(blobs) - len(hits)
    return Outcome.failed(
        *hits, note=f"{len(blobs)} large blobs" + (f"; {more} not listed" if more > 0 else "")
    )


@rule(
    code="VCS003",
    name="data-files-in-git",
    title="Data and model files are not committed to plain git",
    severity="medium",
    practices=("seml-22", "seml-8", "mts-data-5"),
)
def data_files_in_git(facts: Facts) -> Outcome:
    """## What it finds
    Data sets, serialised models and archives (`.csv`, `.parquet`, `.pkl`, `.pt`,
    `.onnx`, `.zip`, ...) of 1 MB or more that are committed to git, not stored with git
    LFS and not tracked by DVC.

    ## Why it matters
    Git keeps every version of every file forever and diffs them as text: data and
    models in it bloat every clone, cannot be shared selectively, and personal data in
    a committed CSV is copied to every developer's laptop (ML Test Score data 5: privacy
    controls on the data pipeline). SE-ML practices 22 and 8 ask for data and models
    versioned with tools made for them and kept on shared storage.

    ## Example
    ```
    data/customers.csv        48 MB   (committed)
    models/churn.pkl          12 MB   (committed)
    ```

    ## Instead
    ```sh
    git rm --cached data/customers.csv models/churn.pkl
    dvc add data/customers.csv models/churn.pkl    # or: git lfs track "*.pkl"
    git add data/customers.csv.dvc models/churn.pkl.dvc .gitignore
    ```
    """
    files = facts.files
    dvc = facts.dvc
    data = _committed_data(facts)
    if not data:
        return Outcome.passed(note="no data or model files committed")
    big = [f for f in data if files.size(f) >= DATA_FILE_BYTES]
    lfs = _lfs_patterns(facts)
    stored = [f for f in big if _lfs(f, lfs) or dvc.tracks(f)]
    plain = sorted((f for f in big if f not in stored), key=lambda f: -files.size(f))
    evidence = (
        [
            Evidence(
                f"{len(stored)} large data/model files stored with git LFS or DVC",
                Strength.PRESENT,
                stored[0],
            )
        ]
        if stored
        else []
    )
    if not plain:
        return Outcome.passed(
            *evidence,
            note=f"{len(data)} data/model files committed, none of {_mb(DATA_FILE_BYTES)} "
            "or more outside LFS/DVC",
        )
    hits = [
        Hit(
            f"{f} ({_mb(files.size(f))}) is committed to git; move it to DVC or git LFS, "
            "or to shared storage",
            f,
        )
        for f in plain[:_MAX_HITS]
    ]
    return Outcome.failed(
        *hits,
        evidence=evidence,
        note=f"{len(plain)} data/model files of {_mb(DATA_FILE_BYTES)} or more",
    )


def _ignored_data(facts: Facts) -> Hit | None:
    """A .gitignore line that keeps data or model files out of git."""
    for rel in facts.files.named(".gitignore"):
        for i, raw in enumerate((facts.files.read_text(rel) or "").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith(("#", "!")):
                continue
            bare = line.strip("/").removeprefix("**/").removesuffix("/**").removesuffix("/*")
            name = bare.rsplit("/", 1)[-1].lower()
            ext = name[1:] if name.startswith("*.") else ""
            if name in _DATA_DIRS or (ext and _is_data_file("x." + ext)):
                return Hit(
                    f"`{line}` keeps data or model files out of git, and no tool versions them: "
                    "track them with DVC (`dvc add`) or git LFS",
                    rel,
                    i,
                    context=f"{rel} {line}",
                )
    return None


def _public_data(facts: Facts) -> str | None:
    """Where the code fetches a public data set, as ``path:line``; None if it does not."""
    for m in facts.python.source_modules:
        if not m.imports_any(*_PUBLIC_DATA_LIBS):
            continue
        for call, name in m.calls():
            if name.endswith("Folder"):
                continue  # ImageFolder, DatasetFolder: a local folder
            if any(name.startswith(p) if p.endswith(".") else name == p for p in _PUBLIC_DATA):
                return f"{name} in {m.path}:{call.lineno}"
    return None


@rule(
    code="VCS004",
    name="data-not-versioned",
    title="Data is versioned with the code or a data versioning tool",
    severity="medium",
    practices=("seml-22",),
)
def data_not_versioned(facts: Facts) -> Outcome:
    """## What it finds
    Data or model files kept out of git (`data/` or `*.csv` in `.gitignore`) that no
    tool versions instead: no DVC-tracked files or pipeline outputs, no git LFS
    patterns, no lakeFS, Delta Lake, DataLad or Quilt, no mlsteward dataset versions.

    ## Why it matters
    A model can only be reproduced or audited if the exact data it was trained on can be
    retrieved. SE-ML practice 22 asks to version data as carefully as code; CI that
    pulls the versioned data (`dvc pull`, `dvc repro`) makes it automatic.

    ## Example
    ```
    # .gitignore
    data/          # the training data exists only on the laptops that made it
    ```

    ## Instead
    ```sh
    dvc init && dvc add data/raw && dvc remote add -d storage s3://team-bucket/dvc
    git add data/raw.dvc .dvc/config && dvc push
    ```
    """
    dvc = facts.dvc
    evidence: list[Evidence] = []
    if dvc.dvc_files:
        imported = f", {len(dvc.imports)} imported with `dvc import`" if dvc.imports else ""
        evidence.append(
            Evidence(
                f"{len(dvc.dvc_files)} DVC-tracked data files{imported}",
                Strength.PRESENT,
                dvc.dvc_files[0],
            )
        )
    outs = [s for s in dvc.stages if s.outs]
    if outs:
        evidence.append(
            Evidence(
                f"{len(outs)} DVC pipeline stages with versioned outputs",
                Strength.PRESENT,
                outs[0].path,
                outs[0].line,
            )
        )
    if lfs := _lfs_patterns(facts):
        patterns = ", ".join(p for _, p in lfs[:4])
        evidence.append(
            Evidence(
                f"git LFS tracks {patterns}", Strength.PRESENT, facts.files.find(".gitattributes")
            )
        )
    for mod, label in _DATA_TOOLS.items():
        users = facts.python.importers(mod, tests=False)
        if users:
            evidence.append(Evidence(f"uses {label}", Strength.PRESENT, users[0].path))
    records = facts.records
    if records.readable and records.dataset_versions:
        evidence.insert(
            0,
            Evidence(
                f"dataset versions recorded by mlsteward, content-hashed: "
                f"{records.dataset_versions} (of {records.datasets} datasets)",
                Strength.VERIFIED,
                ".steward/steward.db",
            ),
        )
    if evidence:
        ci = facts.ci.evidence_running(_DVC_CI, "runs DVC")
        if ci is not None:
            evidence.append(ci)
        return Outcome.passed(*evidence)
    ignored = _ignored_data(facts)
    public = _public_data(facts) if ignored is not None else None
    if ignored is not None and public is not None:
        return Outcome.unknown(
            f"data is kept out of git ({ignored.path}:{ignored.line}) and fetched from public "
            f"sources ({public}); pin their versions (a dataset revision, a checksum)"
        )
    if ignored is not None:
        return Outcome.failed(
            ignored, note="no DVC, LFS, lakeFS, Delta, DataLad or mlsteward datasets"
        )
    files = facts.files
    tracked = _committed_data(facts)
    if tracked:
        return Outcome.passed(
            Evidence(
                f"{len(tracked)} data files versioned in git with the code",
                Strength.PRESENT,
                tracked[0],
            ),
            note="large ones belong in DVC or LFS (VCS003)",
        )
    # a top-level data/ folder; a package's data/ subfolder holds package resources
    folders = [f for f in files.files if "/" in f and f.split("/", 1)[0].lower() in _DATA_DIRS]
    if folders:
        return Outcome.unknown(
            f"{folders[0]} suggests data is produced or downloaded by code; whether its source "
            "is versioned cannot be told from the repository"
        )
    return Outcome.not_applicable("no data files, data folders or ignored data in the repository")


@rule(
    code="VCS005",
    name="dvc-remote-missing",
    title="DVC has a shared remote",
    severity="medium",
    practices=("seml-8", "seml-22"),
)
def dvc_remote_missing(facts: Facts) -> Outcome:
    """## What it finds
    A project that uses DVC but whose committed `.dvc/config` names no remote, or only a
    local directory.

    ## Why it matters
    Without a remote, DVC-tracked data lives only in one machine's cache: teammates and
    CI cannot `dvc pull` it, and SE-ML practice 8 (data sets available on shared
    infrastructure) is not met.

    ## Example
    ```ini
    # .dvc/config
    [core]
        autostage = true
    ```

    ## Instead
    ```sh
    dvc remote add -d storage s3://team-bucket/dvc-store
    git add .dvc/config
    ```
    """
    dvc = facts.dvc
    if not dvc.present:
        return Outcome.not_applicable("DVC is not used")
    anchor = dvc.config_path or facts.files.anchor(*dvc.pipelines, *dvc.dvc_files)
    if dvc.config_path is None:
        return Outcome.failed(
            Hit(
                "DVC files but no committed .dvc/config: run `dvc init` and "
                "`dvc remote add -d <name> <url>`, and commit .dvc/config",
                anchor,
            )
        )
    if not dvc.remotes:
        return Outcome.failed(
            Hit(
                "no DVC remote: `dvc remote add -d storage s3://...` so others can pull the data",
                anchor,
            )
        )
    name = dvc.default_remote if dvc.default_remote in dvc.remotes else next(iter(dvc.remotes))
    url = dvc.remotes[name]
    evidence = [Evidence(f"DVC remote '{name}': {url}", Strength.PRESENT, dvc.config_path)]
    ci = facts.ci.evidence_running(r"\bdvc\s+(pull|fetch|push|repro)\b", "runs DVC")
    if ci is not None:
        evidence.append(ci)
    if "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url):
        return Outcome.partial(
            0.5,
            Hit(
                f"DVC remote '{name}' is a local directory ({url}): only machines that mount "
                "it can pull; prefer object storage or an SSH/HTTP remote",
                anchor,
            ),
            evidence=evidence,
        )
    if len(dvc.remotes) > 1 and dvc.default_remote is None:
        return Outcome.passed(
            *evidence, note="several remotes and no default (`dvc remote default`)"
        )
    return Outcome.passed(*evidence)


@rule(
    code="VCS006",
    name="dvc-lock-uncommitted",
    title="dvc.lock is committed with the pipeline",
    severity="medium",
    practices=("seml-22", "mts-infra-1"),
)
def dvc_lock_uncommitted(facts: Facts) -> Outcome:
    """## What it finds
    A `dvc.yaml` pipeline with stages whose `dvc.lock` is missing or not committed.

    ## Why it matters
    `dvc.lock` records the hash of every dependency and output of the last run: it is
    what ties a commit to the exact data and model it produced, so that `dvc pull` and
    `dvc repro` reproduce it (SE-ML 22, ML Test Score infra 1).

    ## Example
    `dvc.yaml` committed, `dvc.lock` listed in `.gitignore`.

    ## Instead
    ```sh
    dvc repro && git add dvc.lock && git commit -m "Record pipeline results"
    ```
    """
    dvc = facts.dvc
    pipelines = sorted({s.path for s in dvc.stages})
    if not pipelines:
        return Outcome.not_applicable("no dvc.yaml with stages")
    hits, evidence = [], []
    files = facts.files
    for rel in pipelines:
        parent = str(PurePosixPath(rel).parent)
        lock = "dvc.lock" if parent == "." else f"{parent}/dvc.lock"
        line = next((s.line for s in dvc.stages if s.path == rel), None)
        if not files.exists(lock):
            hits.append(
                Hit(
                    f"{rel} has stages but no {lock}: run `dvc repro` and commit dvc.lock",
                    rel,
                    line,
                )
            )
        elif not files.is_tracked(lock):
            hits.append(Hit(f"{lock} is not committed: `git add {lock}`", lock))
        else:
            evidence.append(Evidence(f"{lock} committed with {rel}", Strength.PRESENT, lock))
    score = len(evidence) / len(pipelines)
    # CI that reproduces or checks the pipeline keeps the lock honest
    ci = facts.ci.evidence_running(r"\bdvc\s+(repro|status|exp\s+run)\b", "runs the pipeline")
    if ci is not None and evidence:
        evidence.append(ci)
    return Outcome.partial(score, *hits, evidence=evidence) if hits else Outcome.passed(*evidence)


def _io_call(node: ast.AST, module: Module, depth: int = 0) -> bool:
    """Whether the value at ``node`` ends up as a file argument of an I/O call."""
    parent = module.parents.get(node)
    if isinstance(parent, ast.keyword):
        if parent.arg in ("help", "description", "msg", "message"):
            return False
        parent = module.parents.get(parent)
    if isinstance(parent, ast.BinOp | ast.JoinedStr | ast.FormattedValue) and depth < 4:
        return _io_call(parent, module, depth + 1)  # "/mnt/data/" + name
    if not isinstance(parent, ast.Call) or node is parent.func:
        return False
    name = (module.qualname(parent.func) or "").rsplit(".", 1)[-1]
    if name in _IO_CALLS:
        return True
    return name in _PATH_BUILDERS and depth < 4 and _io_call(parent, module, depth + 1)


def _local_paths(module: Module) -> list[Hit]:
    hits: list[Hit] = []
    for const in module.nodes(ast.Constant):
        value = const.value
        if not isinstance(value, str) or "\n" in value or len(value) > 300:
            continue
        home = _HOME_PATH.match(value)
        if not home and not _MOUNT_PATH.match(value):
            continue
        parent = module.parents.get(const)
        if isinstance(parent, ast.Expr):
            continue  # a docstring
        if home:
            if isinstance(parent, ast.keyword) and parent.arg in ("help", "description"):
                continue
        elif not _io_call(const, module):
            target = parent.targets[0] if isinstance(parent, ast.Assign) else None
            if not (isinstance(target, ast.Name) and _PATHY_NAME.search(target.id)):
                continue
        kind = "a home directory" if home else "a machine-specific mount"
        where = f" ({module.where(const.lineno)})" if module.is_notebook else ""
        hits.append(
            Hit(
                f"'{value[:60]}' is {kind} path{where}: reference shared data by a remote "
                "URI (DVC, s3://) or a configurable relative path",
                module.path,
                const.lineno,
                const.col_offset + 1,
            )
        )
    return hits


@rule(
    code="VCS007",
    name="local-absolute-data-path",
    title="Data is referenced by shared locations, not local absolute paths",
    severity="medium",
    practices=("seml-8",),
    scope="code",
)
def local_absolute_data_path(facts: Facts) -> Outcome:
    """## What it finds
    String constants in source and notebooks that point into one person's machine: home
    directories (`/home/alice/...`, `/Users/bob/...`, `C:\\Users\\...`, a mounted Google
    Drive) anywhere, and local mounts (`/mnt/...`, `/scratch/...`, `D:\\...`) where they are
    opened, read, listed or assigned to a path variable. Test modules, docstrings and
    `help=` texts are skipped; `/tmp` and `/data` are not flagged (in containers they
    are scratch space or mounted volumes).

    ## Why it matters
    Code that reads `/home/alice/data/train.csv` runs on Alice's machine only. SE-ML
    practice 8 asks for data sets on shared infrastructure, referenced so that any
    teammate and CI can get them.

    ## Example
    ```python
    df = pd.read_csv("/home/alice/projects/churn/data/train.csv")
    ```

    ## Instead
    ```python
    with dvc.api.open("data/train.csv", repo="git@github.com:team/churn.git") as f:
        df = pd.read_csv(f)
    # or a configurable relative path: pd.read_csv(Path(cfg.data_dir) / "train.csv")
    ```
    """
    modules = facts.python.source_modules
    if not modules:
        return Outcome.not_applicable("no Python source or notebooks")
    hits: list[Hit] = []
    remote: Evidence | None = None
    for m in modules:
        # the text says whether a path could be there: only those modules are parsed
        if _CANDIDATE.search(m.source) and m.tree is not None:
            hits.extend(_local_paths(m))
        if remote is None and (uri := _REMOTE_IN_TEXT.search(m.source)):
            line = m.source.count("\n", 0, uri.start()) + 1
            remote = Evidence(
                f"reads data by remote URI '{uri.group(1)[:60]}'", Strength.PRESENT, m.path, line
            )
    evidence = [remote] if remote is not None else []
    return Outcome.from_hits(
        hits, evidence=evidence, note=f"{len(modules)} modules and notebooks scanned"
    )


def _config_files(facts: Facts, ml_modules: list[Module]) -> list[str]:
    """Tracked config files beside the ML code (not deployment or CI configuration)."""
    files = facts.files
    # the top-level folders that hold ML code; "" is the root
    ml_tops = {m.path.split("/", 1)[0] if "/" in m.path else "" for m in ml_modules}
    out = []
    for f in files.files:
        if not files.is_tracked(f) or _NOT_TRAINING_CONFIG.search(f):
            continue
        parts = PurePosixPath(f).parts
        if any(p.lower() in _NOT_ML_DIRS for p in parts[:-1]):
            continue
        top = parts[0] if len(parts) > 1 else ""
        near = top in ml_tops or len(parts) <= 2 or "" in ml_tops
        in_dir = any(p.lower() in _CONFIG_DIRS for p in parts[:-1])
        named = _CONFIG_NAMES.search(parts[-1])
        if near and ((in_dir and f.lower().endswith(_CONFIG_EXTS)) or named):
            out.append(f)
    return out


def _scripted_runs(facts: Facts, trainers: list[Module]) -> Evidence | None:
    """A tracked script, Makefile or CI job that runs training with its options written out."""
    names = {m.path.rsplit("/", 1)[-1] for m in trainers if not m.is_notebook}
    dotted = {m.dotted for m in trainers if m.dotted}
    if not names and not dotted:
        return None
    alts = [re.escape(n) for n in names] + [r"-m\s+" + re.escape(d) + r"\b" for d in dotted]
    invocation = re.compile(r"(?:" + "|".join(alts) + r")((?:\\\n|[^\n])*)")
    files = facts.files
    candidates = files.glob("*.sh", "Makefile", "*.mk", "justfile", "MLproject")
    for rel in [*candidates, *facts.ci.files]:
        if not files.is_tracked(rel):
            continue
        text = files.read_text(rel) or ""
        for match in invocation.finditer(text):
            if len(re.findall(r"(?:^|\s)--?[A-Za-z][\w-]*", match.group(1))) >= 2:
                line = text[: match.start()].count("\n") + 1
                return Evidence(
                    f"training run with its options recorded in {rel}", Strength.PRESENT, rel, line
                )
    return None


_DEMO = re.compile(r"(^|/)(examples?|samples?|tutorials?|docs?|demos?)/", re.I)
_CLI_LIBS = ("argparse", "click", "typer", "fire", "absl.flags", "docopt", "jsonargparse")


def _is_cli_parser(module: Module, call: ast.Call) -> bool:
    name = module.qualname(call.func) or ""
    return name.endswith(("ArgumentParser", "add_argument", "typer.Typer", "fire.Fire"))


@rule(
    code="VCS008",
    name="training-config-untracked",
    title="Training configuration lives in tracked config files",
    severity="low",
    practices=("seml-22", "seml-16"),
    applies_when=("model",),
)
def training_config_untracked(facts: Facts) -> Outcome:
    """## What it finds
    Training scripts whose hyperparameters and settings live only on the command line
    (argparse, click, typer, fire) or in the code: no committed params file (DVC
    `params.yaml`), no Hydra/YAML config folder or config file beside the ML code, no
    script or Makefile that records the options a run used. Settings typed on a command
    line fail the rule; settings hard-coded in the (versioned) script score half.
    Training only in notebooks or library functions, and examples, are not judged.

    ## Why it matters
    SE-ML practice 22 asks to version configuration with the code and data, and
    practice 16 (parallel experiments) needs runs that differ only by a config file. A
    learning rate typed on a command line is lost the moment the terminal closes.

    ## Example
    ```sh
    python train.py --lr 0.003 --epochs 40 --layers 4   # remembered by nobody
    ```

    ## Instead
    ```yaml
    # params.yaml (read by train.py, listed under `params:` in dvc.yaml)
    train:
      lr: 0.003
      epochs: 40
    ```
    """
    from mlsteward.audit.facts.mlcode import ML_LIBS, is_entry_point, training_modules

    # importing an ML library is a cheap first test; finding the training calls is not
    if not facts.python.importers(*ML_LIBS, tests=False):
        return Outcome.not_applicable("no ML library used, so no training code")
    evidence: list[Evidence] = []
    dvc = facts.dvc
    with_params = [s for s in dvc.stages if s.params]
    if with_params:
        s = with_params[0]
        evidence.append(
            Evidence(
                f"DVC stage '{s.name}' reads params ({', '.join(s.params[:3])})",
                Strength.PRESENT,
                s.path,
                s.line,
            )
        )
    configs = [f for f in dvc.params_files if facts.files.is_tracked(f)]
    ml_modules = facts.python.importers(*ML_LIBS, tests=False)
    configs += [f for f in _config_files(facts, ml_modules) if f not in configs]
    if configs:
        shown = ", ".join(configs[:3]) + (
            f" and {len(configs) - 3} more" if len(configs) > 3 else ""
        )
        evidence.append(Evidence(f"tracked config files: {shown}", Strength.PRESENT, configs[0]))
    hydra = facts.python.importers("hydra", "gin", "omegaconf", tests=False)
    if hydra and configs:
        evidence.append(
            Evidence("configs loaded with Hydra/OmegaConf/gin", Strength.PRESENT, hydra[0].path)
        )
    if evidence:
        return Outcome.passed(*evidence)
    # examples and tutorials show a library's use; their settings are the reader's to make
    trainers = [m for m in training_modules(facts) if not _DEMO.search(m.path)]
    if not trainers:
        return Outcome.not_applicable("no training code outside examples and tutorials")
    scripted = _scripted_runs(facts, trainers)
    if scripted is not None:
        return Outcome.passed(scripted)
    # scripts that are run (not library helpers): a main guard, a CLI, or a train* name
    scripts = [
        m
        for m in trainers
        if not m.is_notebook
        and (is_entry_point(m) or m.imports_any(*_CLI_LIBS) or "train" in m.path.rsplit("/", 1)[-1])
    ]
    if not scripts:
        return Outcome.not_applicable(
            "training lives in notebooks or library functions, whose settings are versioned "
            "with them"
        )
    cli = next((m for m in scripts if m.imports_any(*_CLI_LIBS)), None)
    if cli is not None:
        return Outcome.failed(
            Hit(
                "training settings come from the command line and no tracked file records "
                "them; put hyperparameters in params.yaml or a configs/ folder",
                cli.path,
                next((n.lineno for n in cli.nodes(ast.Call) if _is_cli_parser(cli, n)), None),
            ),
            note=f"{len(trainers)} training modules, no params or config files",
        )
    return Outcome.partial(
        0.5,
        Hit(
            "training settings are hard-coded in the training code: versioned, but every "
            "experiment edits the code; move them to params.yaml or a configs/ folder",
            scripts[0].path,
        ),
        evidence=[
            Evidence(
                "settings versioned inside the training code", Strength.PRESENT, scripts[0].path
            )
        ],
    )
