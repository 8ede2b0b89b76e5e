"""A `DatasetDrift` as JSON, as a terminal summary, and as one self-contained HTML page.

JSON is the contract (``steward data drift --format json``): every column with ``name``,
``drifted``, ``method``, ``value``, ``threshold``, non-finite numbers as null. The HTML page
draws each column's reference and current distributions as inline SVG (overlaid histogram
bars on the shared bins for numbers, paired bars of the top categories otherwise); it loads
nothing and runs no script, so it opens offline and can be mailed or archived.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from mlsteward.data.drift import ColumnDrift, ColumnSummary, DatasetDrift
from mlsteward.reports.html import Html, badge, escape, page, table

if TYPE_CHECKING:
    from mlsteward.data.compare import SkewReport

__all__ = ["skew_json", "skew_text", "to_html", "to_json", "to_text"]

_HEADERS = [
    *("column", "verdict", "method", "value", "threshold"),
    *("PSI", "missing", "top mover", "note"),
]
_CHART_CATEGORIES = 12  # categories drawn per column; the rest are one "(other)" bar


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(drift: DatasetDrift) -> str:
    """The drift report as JSON: ``DatasetDrift.to_dict()``, strict (no NaN or Infinity)."""
    return json.dumps(_finite(drift.to_dict()), indent=2, ensure_ascii=False, allow_nan=False)


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and abs(value) < 10**-digits:
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _compare(c: ColumnDrift) -> str:
    """``0.512 >= 0.100`` for a distance, ``p 0.001 <= 0.050`` for a test."""
    if c.method in ("ks", "chi_square"):
        op = "<=" if c.drifted else ">"
        return f"p {_num(c.value)} {op} {_num(c.threshold)}"
    op = ">=" if c.drifted else "<"
    return f"{_num(c.value)} {op} {_num(c.threshold)}"


def _tested(drift: DatasetDrift) -> list[ColumnDrift]:
    return [c for c in drift.columns if not c.method.startswith("skipped")]


def _headline(drift: DatasetDrift) -> str:
    tested = _tested(drift)
    verdict = "DRIFTED" if drift.drifted else "no dataset drift"
    return (
        f"{verdict}: {len(drift.drifted_columns)} of {len(tested)} tested columns drifted "
        f"({drift.share_drifted:.0%}; the dataset drifts at {drift.config.dataset_share:.0%}), "
        f"{len(drift.missing_jumps)} missing-rate jump"
        + ("" if len(drift.missing_jumps) == 1 else "s")
    )


def to_text(drift: DatasetDrift) -> str:
    """A terminal summary: the verdict, drifted columns first, missing-rate jumps, the rest."""
    lines = [_headline(drift), ""]
    drifted = [c for c in drift.columns if c.drifted]
    if drifted:
        lines.append("drifted columns:")
        rows = [
            [
                c.name,
                c.method,
                _compare(c),
                f"psi {_num(c.psi)}",
                f"top mover {c.top_mover}" if c.top_mover else "",
            ]
            for c in sorted(drifted, key=lambda c: -(c.value or 0.0))
        ]
        lines += _aligned(rows)
        lines.append("")
    jumps = [c for c in drift.columns if c.missing_jump]
    if jumps:
        lines.append("missing-rate jumps:")
        lines += _aligned(
            [[c.name, f"{_rate(c.missing_rate_ref)} -> {_rate(c.missing_rate_cur)}"] for c in jumps]
        )
        lines.append("")
    calm = [c for c in _tested(drift) if not c.drifted]
    if calm:
        lines.append("no drift:")
        lines += _aligned([[c.name, c.method, _compare(c)] for c in calm])
        lines.append("")
    skipped = [c for c in drift.columns if c.method.startswith("skipped")]
    if skipped:
        lines.append("skipped:")
        lines += _aligned([[c.name, c.method, c.note] for c in skipped])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def skew_json(report: SkewReport) -> str:
    """A `SkewReport` as JSON (``steward data skew --format json``), strict."""
    return json.dumps(_finite(report.to_dict()), indent=2, ensure_ascii=False, allow_nan=False)


def skew_text(report: SkewReport) -> str:
    """A terminal summary of training/serving skew: mismatched values, then distributions."""
    bad = report.skewed_features
    head = f"SKEWED: {', '.join(bad)}" if report.skewed else "no training/serving skew"
    lines = [head, ""]
    if report.keys:
        lines.append(
            f"joined on {', '.join(report.keys)}: {report.joined:,} entities on both sides, "
            f"{report.training_only:,} training only, {report.serving_only:,} serving only"
        )
        lines += [f"note: {n}" for n in report.notes]
        rows = [
            [
                m.name,
                "MISMATCH" if m.flagged else "ok",
                f"{m.mismatched:,} of {m.compared:,} rows ({m.rate:.2%})",
                "" if m.example is None else _example(m.example),
            ]
            for m in sorted(report.mismatches, key=lambda m: -m.rate)
        ]
        if rows:
            lines.append("value mismatches:")
            lines += _aligned(rows)
        lines.append("")
    lines.append("distributions (stricter thresholds than drift):")
    lines += ["  " + line if line else "" for line in to_text(report.distribution).splitlines()]
    return "\n".join(lines).rstrip() + "\n"


def _example(example: dict[str, Any]) -> str:
    key = ", ".join(f"{k}={v!r}" for k, v in example["key"].items())
    return f"e.g. {key}: training {example['training']!r}, serving {example['serving']!r}"


# -- HTML -----------------------------------------------------------------------------------


def to_html(drift: DatasetDrift, reference_profile: Any = None, current_profile: Any = None) -> str:
    """One self-contained HTML page: the verdicts and each column's two distributions.

    Args:
        drift: the verdicts.
        reference_profile: the reference `Profile` (draws the distributions; without both
            profiles the page has the table only).
        current_profile: the current `Profile`, made on the reference's bins.
    """
    tested = _tested(drift)
    verdict = (
        _card("dataset", "drifted", "poor")
        if drift.drifted
        else _card("dataset", "no drift", "good")
    )
    cards = Html(
        '<div class="cards">'
        + verdict
        + _card("drifted columns", f"{len(drift.drifted_columns)} / {len(tested)}", "info")
        + _card("missing-rate jumps", str(len(drift.missing_jumps)), "info")
        + "</div>"
    )
    rows = []
    ordered = sorted(drift.columns, key=lambda c: (not c.drifted, not c.missing_jump))
    for c in ordered:
        rows.append(
            [
                c.name,
                _verdict(c),
                c.method,
                _num(c.value),
                _num(c.threshold),
                _num(c.psi),
                f"{_rate(c.missing_rate_ref)} → {_rate(c.missing_rate_cur)}",
                c.top_mover or "",
                c.note,
            ]
        )
    overview = table(
        _HEADERS,
        rows,
        numeric=(3, 4, 5),
        caption="Every column, drifted first",
    )
    parts = [
        "<h1>Data drift</h1>",
        f'<p class="meta">{escape(_headline(drift))}</p>',
        cards,
        "<h2>Columns</h2>",
        overview,
    ]
    if reference_profile is not None and current_profile is not None:
        parts.append("<h2>Distributions</h2>")
        parts.append(
            '<p class="muted small">Grey: reference; blue (red when drifted): current. '
            "Numeric bins are the reference's (about equal shares of its rows), so the "
            "reference is flat and the current shows where rows moved.</p>"
        )
        for i, c in enumerate(ordered):
            parts.append(_column_section(i, c, reference_profile, current_profile))
    return page(
        "Data drift report", "\n".join(parts), description=_headline(drift), generator="mlsteward"
    )


def _card(label: str, value: str, tone: str) -> str:
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value tone-{tone}">{escape(value)}</div></div>'
    )


def _verdict(c: ColumnDrift) -> Html:
    if c.method.startswith("skipped"):
        return badge("skipped", "muted")
    marks = [badge("drifted", "poor") if c.drifted else badge("ok", "good")]
    if c.missing_jump:
        marks.append(badge("missing jump", "fair"))
    return Html(" ".join(marks))


def _column_section(i: int, c: ColumnDrift, ref_prof: Any, cur_prof: Any) -> str:
    from mlsteward.data.compare import column_pair

    head = f"<h3>{escape(c.name)} {_verdict(c)}</h3>"
    if c.method == "skipped (id)":
        return head + '<p class="muted small">an identifier: its distribution is not drawn</p>'
    pair = column_pair(c.name, ref_prof, cur_prof)
    if pair is None:
        return head + '<p class="muted small">not on both sides, or not comparable</p>'
    ref, cur = pair
    tone = "poor" if c.drifted else "info"
    if ref.kind == "numeric":
        chart = _histogram_svg(i, c.name, ref, cur, tone)
    else:
        chart = _categories_svg(i, c.name, ref, cur, tone)
    return head + (chart or '<p class="muted small">no values to draw</p>')


def _shares(counts: Any) -> list[float]:
    total = float(sum(counts))
    return [float(x) / total if total > 0 else 0.0 for x in counts]


def _histogram_svg(i: int, name: str, ref: ColumnSummary, cur: ColumnSummary, tone: str) -> str:
    if ref.edges is None or ref.hist_counts is None or cur.hist_counts is None:
        return ""
    r, c = _shares(ref.hist_counts), _shares(cur.hist_counts)
    edges = [float(e) for e in ref.edges]
    n = len(r)
    width, height, left, bottom = 640, 150, 8, 22
    bw = (width - 2 * left) / n
    top = max(max(r), max(c), 1e-12)
    scale = (height - bottom - 6) / top
    base = height - bottom
    labels = ["< " + _num(edges[0], 3)] + [
        f"[{_num(edges[j], 3)}, {_num(edges[j + 1], 3)})" for j in range(len(edges) - 1)
    ]
    labels.append("≥ " + _num(edges[-1], 3))
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="h{i}-t">',
        f'<title id="h{i}-t">{escape(name)}: reference and current shares on '
        f"{n} shared bins</title>",
    ]
    for j in range(n):
        x = left + j * bw
        tip = f"{labels[j]}: reference {r[j]:.2%}, current {c[j]:.2%}"
        out.append(f"<g><title>{escape(tip)}</title>")
        for share, cls, opacity in ((r[j], "fill-muted", "0.55"), (c[j], f"fill-{tone}", "0.5")):
            h = share * scale
            if h > 0:
                out.append(
                    f'<rect class="{cls}" fill-opacity="{opacity}" x="{x + 0.5:.1f}" '
                    f'y="{base - h:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{h:.1f}"/>'
                )
        out.append("</g>")
    out.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="#8c959f"/>')
    for j in (0, len(edges) // 2, len(edges) - 1):  # a few of the edges under the axis
        x = left + (j + 1) * bw
        anchor = "start" if j == 0 else "end" if j == len(edges) - 1 else "middle"
        out.append(
            f'<text class="value" x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}">'
            f"{escape(_num(edges[j], 3))}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _top_categories(ref: ColumnSummary, cur: ColumnSummary) -> list[tuple[str, float, float]]:
    ri: Mapping[Hashable, float] = ref.items or {}
    ci: Mapping[Hashable, float] = cur.items or {}
    rn, cn = max(ref.count, 1), max(cur.count, 1)
    keys = sorted(ri.keys() | ci.keys(), key=lambda k: -(ri.get(k, 0) / rn + ci.get(k, 0) / cn))
    head = keys[:_CHART_CATEGORIES]
    rows = [(str(k), ri.get(k, 0.0) / rn, ci.get(k, 0.0) / cn) for k in head]
    r_other = 1 - sum(x for _, x, _ in rows) - ref.nulls / rn
    c_other = 1 - sum(y for _, _, y in rows) - cur.nulls / cn
    if r_other > 1e-9 or c_other > 1e-9:
        rows.append(("(other)", max(r_other, 0.0), max(c_other, 0.0)))
    if ref.nulls or cur.nulls:
        rows.append(("(missing)", ref.nulls / rn, cur.nulls / cn))
    return rows


def _categories_svg(i: int, name: str, ref: ColumnSummary, cur: ColumnSummary, tone: str) -> str:
    rows = _top_categories(ref, cur)
    if not rows:
        return ""
    label_w, track, value_w, row_h = 180, 360, 130, 22
    width = label_w + track + value_w
    height = len(rows) * row_h + 4
    top = max(max(x, y) for _, x, y in rows) or 1.0
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="c{i}-t">',
        f'<title id="c{i}-t">{escape(name)}: share of rows per category, reference and '
        "current</title>",
    ]
    for j, (label, x, y) in enumerate(rows):
        y0 = 2 + j * row_h
        shown = label if len(label) <= 24 else label[:23] + "…"
        out.append(f"<g><title>{escape(label)}: reference {x:.2%}, current {y:.2%}</title>")
        out.append(
            f'<text class="label" x="{label_w - 8}" y="{y0 + row_h / 2 - 1:.1f}" '
            f'text-anchor="end" dominant-baseline="central">{escape(shown)}</text>'
        )
        for k, (share, cls) in enumerate(((x, "fill-muted"), (y, f"fill-{tone}"))):
            w = track * share / top
            if w > 0:
                out.append(
                    f'<rect class="{cls}" x="{label_w}" y="{y0 + 2 + k * 9}" '
                    f'width="{max(w, 1):.1f}" height="8"/>'
                )
        out.append(
            f'<text class="value" x="{label_w + track + 8}" y="{y0 + row_h / 2 - 1:.1f}" '
            f'dominant-baseline="central">{x:.1%} → {y:.1%}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)
