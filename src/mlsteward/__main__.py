"""``python -m mlsteward`` runs the ``steward`` command."""

import sys

from mlsteward.cli import main

sys.exit(main())
