"""``python -m mlsteward`` runs the ``steward`` command."""

from mlsteward.cli import entry

entry()
