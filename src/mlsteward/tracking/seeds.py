"""`seed_everything`: one seed for every random number generator a run is likely to use.

Python's `random`, numpy's global generator (when numpy is installed) and torch's CPU and
CUDA generators (when torch is installed; torch is never imported when it is absent),
and ``PYTHONHASHSEED`` in ``os.environ`` — which only reaches child processes, since an
interpreter fixes its own hash seed at start. The seeds are remembered process-wide:
each run started afterwards records them, and the active run (if any) records them at
once.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import random

from mlsteward.errors import RecordError

__all__ = ["current_seeds", "seed_everything"]

_SEEDS: dict[str, int] = {}


def seed_everything(n: int) -> dict[str, int]:
    """Seed random, numpy and torch (those installed) with ``n``; return what was seeded.

    Raises:
        RecordError: ``n`` is not an int from 0 to 2**32-1 (code ``seed-value``).
    """
    seeded = apply_seed(n)
    from mlsteward.tracking.run import active_run  # the runs module seeds through here

    run = active_run()
    if run is not None:
        run.record_seeds(seeded)
    return seeded


def apply_seed(n: int) -> dict[str, int]:
    """Seed the generators and remember the seeds, without touching any run's record."""
    if type(n) is not int or not 0 <= n < 2**32:
        raise RecordError(
            f"a seed must be an int from 0 to 2**32-1 (numpy's range), got {n!r:.40}",
            code="seed-value",
            hint="pass a small non-negative int, e.g. seed_everything(42)",
        )
    random.seed(n)
    os.environ["PYTHONHASHSEED"] = str(n)
    seeded = {"random": n, "PYTHONHASHSEED": n}
    if importlib.util.find_spec("numpy") is not None:
        numpy = importlib.import_module("numpy")
        numpy.random.seed(n)
        seeded["numpy"] = n
    if importlib.util.find_spec("torch") is not None:
        torch = importlib.import_module("torch")
        torch.manual_seed(n)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(n)
            seeded["torch.cuda"] = n
        seeded["torch"] = n
    _SEEDS.clear()
    _SEEDS.update(seeded)
    return dict(seeded)


def current_seeds() -> dict[str, int]:
    """The seeds last set in this process (empty if none was)."""
    return dict(_SEEDS)
