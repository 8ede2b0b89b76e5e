"""Validation gates: a policy per alias, checked by one engine, leaving verdict records."""
