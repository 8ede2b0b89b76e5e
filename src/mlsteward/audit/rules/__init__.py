"""Built-in audit rules, one module per family (see `mlsteward.audit.registry.FAMILIES`).

Every module here is imported by the registry; a rule is a function decorated with
`mlsteward.audit.rule.rule`.
"""
