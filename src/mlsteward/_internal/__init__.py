"""Private helpers (hashing, atomic writes, time); never re-exported."""
