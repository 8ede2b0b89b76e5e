"""The shared rendering layer: HTML and Markdown building blocks for every report.

Audit, data, monitoring and model-card reports compose their pages from these parts, so
they look alike and escape alike. Nothing here knows what a report is about: this
package sits below `mlsteward.audit` in the layers and never imports it.

- `mlsteward.reports.html`: a self-contained page shell (inline CSS, no external
  resources), tables, badges, meters and an accessible SVG horizontal bar chart.
- `mlsteward.reports.markdown`: escaping for GitHub-flavoured Markdown, tables, text
  bars, collapsible blocks, and a size budget for comments with a hard limit.
"""

from __future__ import annotations
