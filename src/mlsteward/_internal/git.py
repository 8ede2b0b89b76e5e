"""Running git with a fixed argv, quietly: the output, or None when git cannot answer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["run_git"]


def run_git(cwd: Path, *args: str, timeout: float = 60) -> bytes | None:
    """``git ARGS`` in ``cwd``; its stdout, or None if git is missing, fails or times out.

    Never takes git's optional locks (several processes may ask at once: a status must
    not fail on another's ``index.lock``) and never prompts for credentials.
    """
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, env=env, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
