"""The annual report as people read it: a printable page with charts (inline SVG drawn here,
no script), and its figures and the PMF as CSV text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from markupsafe import Markup, escape

from app.rendering.report_prose import progress_summary
from app.rendering.templating import render
from app.services.report_types import ACTION_MEASURES, CLOCK_STATES, AnnualReport

APPLIES_WORDS = {"all": "every case", "statutory": "statutory cases",
                 "scr_held": "cases with a Serious Case Review",
                 "scr_not_held": "statutory cases with no SCR"}


def annual_page(report: AnnualReport) -> str:
    """The printable page: key figures, the progress summary, charts and tables."""
    return render("annual_report.html", report=report, progress_summary=progress_summary(report),
                  charts=charts(report), applies_words=APPLIES_WORDS)


# ---- CSV ----------------------------------------------------------------------------------

def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula is quoted as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(rows: Sequence[Sequence[object]]) -> str:
    """Rows as CSV (CRLF line ends), with formula-like text quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


# ---- charts -------------------------------------------------------------------------------

MAX_LABEL_W, BAR_W, ROW_H = 260, 300, 26
COLOURS = {  # Okabe-Ito: told apart with colour-blindness; every segment is also labelled
    "met_on_time": "#009E73", "completed_on_time": "#009E73",
    "met_late": "#E69F00", "completed_late": "#E69F00",
    "overdue": "#D55E00", "pending": "#56B4E9", "open": "#56B4E9",
    "not_started": "#DDDDDD", "cancelled": "#999999", "bar": "#0072B2",
}
STATE_WORDS = {"met_on_time": "met on time", "met_late": "met late", "overdue": "overdue",
               "pending": "pending", "not_started": "not started",
               "completed_on_time": "completed on time", "completed_late": "completed late",
               "open": "open", "cancelled": "cancelled"}


def _label(text: str) -> str:
    text = text.replace("_", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest label (about 7 units a character at the charts' 12px)."""
    return min(MAX_LABEL_W, max((16 + 7 * len(_label(label)) for label in labels), default=80))


def _svg(chart_id: str, title: str, desc: str, width: int, height: int,
         body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, int]],
              unit: str = "") -> Markup:
    """One horizontal bar per label, scaled to the largest value, each with its value."""
    top = max((value for _label_, value in bars), default=0) or 1
    label_w = _label_width([label for label, _value in bars])
    body = []
    for index, (label, value) in enumerate(bars):
        y = 10 + index * ROW_H
        width = round(BAR_W * value / top, 1)
        body.append(
            f'<g class="bar"><text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_label(label))}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{ROW_H - 8}" '
            f'fill="{COLOURS["bar"]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text class="value" x="{label_w + width + 6}" y="{y + 15}">{value}</text></g>')
    listed = "; ".join(f"{label.replace('_', ' ')}: {value}" for label, value in bars)
    desc = f"{title}{' (' + unit + ')' if unit else ''}. {listed or 'None'}."
    return _svg(chart_id, title, desc, label_w + BAR_W + 40, 20 + max(len(bars), 1) * ROW_H,
                body)


def stacked_chart(chart_id: str, title: str, rows: Sequence[tuple[str, dict[str, int]]],
                  series: Sequence[str]) -> Markup:
    """One bar per row, split into the series (with a legend), scaled to the largest total."""
    top = max((sum(values.get(s, 0) for s in series) for _l, values in rows), default=0) or 1
    label_w = _label_width([label for label, _values in rows])
    body, x = [], 0
    for name in series:  # the legend
        words = STATE_WORDS.get(name, name)
        body.append(f'<g class="legend"><rect x="{x}" y="4" width="12" height="12" '
                    f'fill="{COLOURS.get(name, "#0072B2")}" stroke="#333" stroke-width="0.5"/>'
                    f'<text x="{x + 16}" y="14">{escape(words)}</text></g>')
        x += 24 + 7 * len(words)
    described = []
    for index, (label, values) in enumerate(rows):
        y = 28 + index * ROW_H
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                    f"{escape(_label(label))}</text>")
        offset = float(label_w)
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            width = round(BAR_W * value / top, 1)
            body.append(f'<rect class="segment {name}" x="{offset}" y="{y + 2}" width="{width}" '
                        f'height="{ROW_H - 8}" fill="{COLOURS.get(name, "#0072B2")}" '
                        f'stroke="#fff" stroke-width="0.5"><title>{escape(label)}: '
                        f"{value} {STATE_WORDS.get(name, name)}</title></rect>")
            offset += width
        total = sum(values.get(s, 0) for s in series)
        body.append(f'<text class="value" x="{offset + 6}" y="{y + 15}">{total}</text>')
        parts = ", ".join(f"{values.get(s, 0)} {STATE_WORDS.get(s, s)}" for s in series
                          if values.get(s, 0))
        described.append(f"{label.replace('_', ' ')}: {parts or 'none'}")
    desc = f"{title}. {'; '.join(described) or 'None'}."
    return _svg(chart_id, title, desc, max(label_w + BAR_W + 40, x), 38 + max(len(rows), 1) * ROW_H,
                body)


def charts(report: AnnualReport) -> dict[str, Markup]:
    reviews, year = report.reviews, report.year
    return {
        "grade": bar_chart("chart-grade", f"Referrals in {year} by grade",
                           list(reviews.by_grade.items()), "cases"),
        "route": bar_chart("chart-route", f"Referrals in {year} by route",
                           list(reviews.by_route.items()), "cases"),
        "status": bar_chart("chart-status", f"Referrals in {year} by status today",
                            list(reviews.by_status.items()), "cases"),
        "timeliness": stacked_chart(
            "chart-timeliness", f"Timeliness against each clock, cases referred in {year}",
            [(clock.label, clock.model_dump()) for clock in report.timeliness.values()],
            CLOCK_STATES[:4]),
        "themes": bar_chart("chart-themes", f"Findings by theme, cases referred in {year}",
                            [(t.theme, t.findings) for t in report.themes.counts[:15]],
                            "findings"),
        "actions": stacked_chart(
            "chart-actions", f"Actions by agency, cases referred in {year}",
            [(agency, counts.model_dump()) for agency, counts in report.actions.by_agency.items()],
            ACTION_MEASURES[1:]),
        "events": bar_chart("chart-events", f"Learning events in {year} by kind",
                            list(report.learning_events.by_kind.items()), "events"),
        "attendance": bar_chart(
            "chart-attendance", f"Learning event attendance in {year} by agency",
            list(report.learning_events.attendance_by_agency.items()), "attendees"),
    }
