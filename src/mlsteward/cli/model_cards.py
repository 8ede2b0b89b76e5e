"""``steward models card``: a model card (Markdown and self-contained HTML) from the records.

Adds its command to the ``steward models`` app; imports happen inside the command.
"""

from __future__ import annotations

from mlsteward.cli.models import models_app

__all__ = ["models_app"]
