"""The metadata store: runs, artifacts, lineage edges, datasets and the event log.

SQLite at ``.steward/steward.db`` by default, PostgreSQL through a URL; SQLAlchemy 2
Core with alembic migrations. See docs/records.md.
"""

from __future__ import annotations

from mlsteward.store.database import HEAD, Store, open_store

__all__ = ["HEAD", "Store", "open_store"]
