"""Model registry: registered models, immutable versions with provenance, aliases, rollback."""
