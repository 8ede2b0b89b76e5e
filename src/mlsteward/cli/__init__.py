"""The ``steward`` command: a thin Typer layer that parses, calls the library, renders.

Errors from the library (`mlsteward.errors.StewardError`) are printed as one line with
their code and hint, and exit with the error's exit code (2 for usage errors); nothing
a user can cause ends in a traceback.
"""

from __future__ import annotations

import sys

from mlsteward.cli.app import app
from mlsteward.errors import StewardError

__all__ = ["app", "entry", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising SystemExit."""
    try:
        code = app(args=argv, prog_name="steward", standalone_mode=False)
    except StewardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit inside standalone_mode=False
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # typer vendors its own click: recognise its usage errors by their interface
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        raise
    return code if isinstance(code, int) else 0


def entry() -> None:
    """The console script: run, flush, and leave without tearing the heap down.

    An audit of a large repository builds many small objects; freeing them one by one at
    interpreter exit costs a noticeable share of the run and helps nobody. Every file
    the command wrote has been closed (atomically renamed) by now.
    """
    import os

    code = main()
    if "mlsteward.audit.facts.python" in sys.modules:
        sys.modules["mlsteward.audit.facts.python"].shutdown_workers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (steward ... | head)
        code = code or 1
    os._exit(code)
