"""Self-contained HTML building blocks: a page shell with inline CSS, tables, SVG bar charts.

Every page is one file that opens offline: no external stylesheet, script, font or
image, and a Content-Security-Policy that forbids loading any. Text is escaped here;
markup built by these helpers is marked `Html` so it is not escaped twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Group", "Html", "badge", "bar_chart", "escape", "meter", "page", "table"]

#: the tones every helper understands; each is a colour in the page's stylesheet
TONES = ("good", "fair", "poor", "info", "muted")

CSS = """
:root {
  --fg:#1f2328; --muted:#59636e; --border:#d1d9e0; --soft:#f6f8fa; --track:#e6eaef;
  --good:#1a7f37; --fair:#9a6700; --poor:#cf222e; --info:#0969da; --mutedfill:#8c959f;
}
* { box-sizing:border-box }
html { -webkit-text-size-adjust:100% }
body {
  margin:0; background:#fff; color:var(--fg);
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
}
main { max-width:1120px; margin:0 auto; padding:32px 28px 56px }
h1 { font-size:26px; line-height:1.25; margin:0 0 4px }
h2 {
  font-size:18px; margin:36px 0 12px; padding-bottom:6px;
  border-bottom:1px solid var(--border);
}
h3 { font-size:15px; margin:22px 0 8px }
p { margin:8px 0 }
.meta,.muted { color:var(--muted) }
.small { font-size:12px }
code,.mono {
  font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace; font-size:12px;
}
.cards {
  display:grid; grid-template-columns:repeat(auto-fit,minmax(190px,1fr)); gap:12px;
  margin:20px 0;
}
.card {
  border:1px solid var(--border); border-radius:8px; padding:14px 16px; background:var(--soft);
}
.card .label {
  font-size:12px; font-weight:600; text-transform:uppercase; letter-spacing:.05em;
  color:var(--muted);
}
.card .value {
  font-size:30px; font-weight:650; line-height:1.2; margin:4px 0 2px;
  font-variant-numeric:tabular-nums;
}
.card .value small { font-size:15px; font-weight:500; color:var(--muted) }
.card .sub { font-size:13px; color:var(--muted) }
.grid2 {
  display:grid; grid-template-columns:repeat(auto-fit,minmax(440px,1fr)); gap:8px 28px;
  align-items:start;
}
table { border-collapse:collapse; width:100%; font-size:13px; margin:6px 0 10px }
caption { text-align:left; font-weight:600; padding:4px 0 }
th,td {
  text-align:left; padding:6px 8px; border-bottom:1px solid var(--border); vertical-align:top;
}
thead th { background:var(--soft); font-weight:600; white-space:nowrap }
td.num,th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap }
td.nowrap { white-space:nowrap }
tr.group th {
  background:#fff; padding-top:14px; font-size:12px; font-weight:600; text-transform:uppercase;
  letter-spacing:.05em; color:var(--muted);
}
ul.plain { margin:0; padding-left:16px }
ul.plain li { margin:0 }
.badge {
  display:inline-block; padding:0 7px; border-radius:10px; border:1px solid currentColor;
  font-size:11.5px; font-weight:600; line-height:18px; white-space:nowrap;
}
.tone-good { color:var(--good) }
.tone-fair { color:var(--fair) }
.tone-poor { color:var(--poor) }
.tone-info { color:var(--info) }
.tone-muted { color:var(--muted) }
.bg-good { background:var(--good) }
.bg-fair { background:var(--fair) }
.bg-poor { background:var(--poor) }
.bg-info { background:var(--info) }
.bg-muted { background:var(--mutedfill) }
.meter {
  display:inline-block; width:64px; height:8px; border-radius:4px; background:var(--track);
  vertical-align:middle; overflow:hidden; margin-right:6px;
}
.meter>span { display:block; height:100% }
svg.chart { display:block; max-width:100%; height:auto; font-family:inherit; overflow:visible }
svg .label { font-size:12.5px; fill:var(--fg) }
svg .value { font-size:12px; fill:var(--muted); font-variant-numeric:tabular-nums }
svg .track { fill:var(--track) }
svg .none { fill:none; stroke:var(--mutedfill); stroke-dasharray:3 3 }
svg .fill-good { fill:var(--good) }
svg .fill-fair { fill:var(--fair) }
svg .fill-poor { fill:var(--poor) }
svg .fill-info { fill:var(--info) }
svg .fill-muted { fill:var(--mutedfill) }
details { margin:8px 0 }
details>summary { cursor:pointer; font-weight:600; padding:4px 0 }
.note { border-left:3px solid var(--fair); background:#fff8e5; padding:8px 12px; margin:10px 0 }
.fail { border-left-color:var(--poor); background:#ffebe9 }
footer {
  margin-top:40px; padding-top:12px; border-top:1px solid var(--border); font-size:12px;
  color:var(--muted);
}
@media print {
  main { max-width:none; padding:0 }
  * { -webkit-print-color-adjust:exact; print-color-adjust:exact }
  h2 { break-after:avoid }
  tr,.card,svg { break-inside:avoid }
  details>summary { list-style:none }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class Html(str):
    """Markup that is already safe: the helpers insert it as is instead of escaping it."""

    __slots__ = ()


class Group(str):
    """A table row that is a heading for the rows after it (spans every column)."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Any value as HTML text, quotes included (safe in element content and attributes)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def _tone(tone: str) -> str:
    if tone not in TONES:
        raise ValueError(f"tone {tone!r} not in {TONES}")
    return tone


def page(title: str, body: str, *, description: str = "", generator: str = "") -> str:
    """A complete HTML document around ``body`` (markup), with the stylesheet inline."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]
    if description:
        head.append(f'<meta name="description" content="{escape(description)}">')
    if generator:
        head.append(f'<meta name="generator" content="{escape(generator)}">')
    head += [f"<title>{escape(title)}</title>", f"<style>{CSS.strip()}</style>", "</head>"]
    return "\n".join([*head, "<body>", "<main>", body, "</main>", "</body>", "</html>"]) + "\n"


def badge(text: str, tone: str = "muted") -> Html:
    """A small outlined label, coloured by ``tone``."""
    return Html(f'<span class="badge tone-{_tone(tone)}">{escape(text)}</span>')


def meter(value: float | None, tone: str = "info", *, label: str = "") -> Html:
    """A small inline bar for a share from 0 to 1 (empty when unknown)."""
    share = 0.0 if value is None else min(max(value, 0.0), 1.0)
    title = f' title="{escape(label)}"' if label else ""
    return Html(
        f'<span class="meter" role="presentation"{title}>'
        f'<span class="bg-{_tone(tone)}" style="width:{100 * share:.0f}%"></span></span>'
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object] | Group],
    *,
    numeric: Iterable[int] = (),
    nowrap: Iterable[int] = (),
    widths: Sequence[str] = (),
    caption: str = "",
) -> Html:
    """A table; cells are escaped unless they are `Html`.

    Args:
        headers: column titles.
        rows: the cells of each row, or a `Group` heading row.
        numeric: indexes of right-aligned, tabular-figure columns.
        nowrap: indexes of columns that must not wrap (codes, locations).
        widths: CSS widths of the first columns (``"30%"``); the rest share what is left.
        caption: a visible caption, also its accessible name.
    """
    num, keep = set(numeric), set(nowrap)

    def cls(i: int) -> str:
        names = (["num"] if i in num else []) + (["nowrap"] if i in keep else [])
        return f' class="{" ".join(names)}"' if names else ""

    out = ["<table>"]
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    if widths:
        out.append(
            "<colgroup>"
            + "".join(f'<col style="width:{escape(w)}">' for w in widths)
            + "</colgroup>"
        )
    out.append(
        "<thead><tr>"
        + "".join(f'<th scope="col"{cls(i)}>{escape(h)}</th>' for i, h in enumerate(headers))
        + "</tr></thead><tbody>"
    )
    for row in rows:
        if isinstance(row, Group):
            out.append(
                f'<tr class="group"><th colspan="{len(headers)}" scope="rowgroup">'
                f"{escape(row)}</th></tr>"
            )
            continue
        out.append(
            "<tr>" + "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        )
    out.append("</tbody></table>")
    return Html("\n".join(out))


@dataclass(frozen=True)
class Bar:
    """One bar of a chart.

    Attributes:
        label: the text left of the bar.
        value: its length, from 0 to the chart's maximum; None draws an empty dashed bar.
        text: the text right of the bar (default: the value as a percentage of the maximum).
        tone: its colour, one of `TONES`.
        detail: more words for the tooltip and the chart's text description.
    """

    label: str
    value: float | None
    text: str = ""
    tone: str = "info"
    detail: str = ""


def _ident(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    maximum: float = 1.0,
    ident: str = "",
    track: int = 300,
    label_chars: int = 0,
) -> Html:
    """A horizontal bar chart as inline SVG, one labelled bar per entry.

    Accessible: the SVG is an image named by its ``<title>`` and described, bar by bar,
    in its ``<desc>``; each bar also carries a tooltip.

    Args:
        bars: the bars, top to bottom.
        title: the chart's name (shown to screen readers and as the tooltip of the chart).
        maximum: the value of a full bar.
        ident: a page-unique id prefix (default: made from the title).
        track: the width of a full bar, in SVG units.
        label_chars: room for labels of this many characters (at least), so that the
            bars of several charts on one page line up.
    """
    ident = _ident(ident or title)
    bar_h, gap, pad = 16, 10, 4
    label_w = max([len(b.label) for b in bars] + [4, label_chars]) * 7 + 14
    value_w = max([len(_text(b, maximum)) for b in bars] + [4]) * 7 + 14
    width = label_w + track + value_w
    height = pad * 2 + len(bars) * (bar_h + gap) - (gap if bars else 0)
    desc = "; ".join(f"{b.label}: {_text(b, maximum)}{_detail(b)}" for b in bars)
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    for i, b in enumerate(bars):
        y = pad + i * (bar_h + gap)
        mid = y + bar_h / 2
        out.append(
            f"<g><title>{escape(b.label)}: {escape(_text(b, maximum))}{escape(_detail(b))}</title>"
        )
        out.append(
            f'<text class="label" x="{label_w - 10}" y="{mid:g}" text-anchor="end" '
            f'dominant-baseline="central">{escape(b.label)}</text>'
        )
        if b.value is None:
            out.append(
                f'<rect class="none" x="{label_w + 0.5}" y="{y + 0.5}" width="{track - 1}" '
                f'height="{bar_h - 1}" rx="3"/>'
            )
        else:
            out.append(
                f'<rect class="track" x="{label_w}" y="{y}" width="{track}" '
                f'height="{bar_h}" rx="3"/>'
            )
            share = min(max(b.value / maximum if maximum else 0.0, 0.0), 1.0)
            if share > 0:
                out.append(
                    f'<rect class="fill-{_tone(b.tone)}" x="{label_w}" y="{y}" '
                    f'width="{max(track * share, 3):.1f}" height="{bar_h}" rx="3"/>'
                )
        out.append(
            f'<text class="value" x="{label_w + track + 8}" y="{mid:g}" '
            f'dominant-baseline="central">{escape(_text(b, maximum))}</text></g>'
        )
    out.append("</svg>")
    return Html("\n".join(out))


def _text(bar: Bar, maximum: float) -> str:
    if bar.text:
        return bar.text
    if bar.value is None:
        return "unknown"
    return f"{100 * bar.value / maximum:.0f}%" if maximum else "0%"


def _detail(bar: Bar) -> str:
    return f" ({bar.detail})" if bar.detail else ""
