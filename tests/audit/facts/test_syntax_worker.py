"""Large repositories: half the syntax check runs in a worker process, which never lingers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from mlsteward.audit import AuditOptions, audit
from mlsteward.audit.facts import python as pyfacts
from repo_builder import build_repo

BODY = "def f{i}(x):\n    return x + {i}\n\n" * 150


def _big_repo(root: Path, broken: tuple[int, ...]) -> Path:
    files = {f"pkg/m{i:03d}.py": BODY.format(i=i) for i in range(1000)}
    for i in broken:
        files[f"pkg/m{i:03d}.py"] = "def broken(:\n"
    build_repo(root, files)
    return root


def test_syntax_errors_are_found_in_both_halves(tmp_path: Path) -> None:
    root = _big_repo(tmp_path, broken=(10, 11, 998, 999))
    total = sum(p.stat().st_size for p in root.rglob("*.py"))
    assert total > pyfacts.PARALLEL_SYNTAX_BYTES, "the fixture must be large enough for the worker"
    report = audit(root, AuditOptions(select=["AUD002"]))
    assert sorted(f.path for f in report.findings) == [
        "pkg/m010.py",
        "pkg/m011.py",
        "pkg/m998.py",
        "pkg/m999.py",
    ]
    assert not pyfacts._LIVE, "the worker is reaped after the audit"


def test_a_piped_audit_ends_and_leaves_no_process(tmp_path: Path) -> None:
    root = _big_repo(tmp_path, broken=())
    start = time.monotonic()
    # SML rules never ask for the syntax check: the worker must still be stopped
    proc = subprocess.run(
        [sys.executable, "-m", "mlsteward", "audit", str(root), "--select", "SML", "-f", "json"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 120
    assert _processes_naming(str(root)) == [], "no worker may outlive the command"


def _processes_naming(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(entry.name))
    return pids
