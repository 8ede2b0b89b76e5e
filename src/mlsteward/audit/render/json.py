"""JSON: the report's dictionary, keys in a stable order, schema in docs/schema/."""

from __future__ import annotations

import json

from mlsteward.audit.report import Report

__all__ = ["render"]


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
