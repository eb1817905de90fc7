"""The annual report's charts as SVG, drawn on the server with matplotlib.

One SVG string serves both the web page (inline `<svg>`, no JavaScript) and the PDF
(WeasyPrint draws inline SVG as vectors), so the two always show the same picture.

What we add to matplotlib's output, and why:

* Text stays text (`svg.fonttype: none`): screen readers and PDF text extraction read the
  labels, and the file stays small. The font is DejaVu Sans, which matplotlib ships and
  measures the layout with; the PDF embeds that same file (see report_exports), and a
  browser without it falls back to Verdana, of the same width, so no label is cut off.
* Deterministic: a fixed `svg.hashsalt` for the ids matplotlib derives, no date in the
  metadata, and the metadata block dropped altogether. The same data gives the same bytes.
* Self-contained and inline-ready: no XML declaration, DOCTYPE, namespace URLs or
  metadata (they name http addresses); `xlink:href` becomes SVG 2's plain `href`, which
  browsers and WeasyPrint read. Inline in HTML the parser puts `<svg>` in the SVG
  namespace itself, so the result is meant for embedding, not for a stand-alone .svg file.
* Accessible: `role="img"`, `aria-label`, a `<title>` and a `<desc>` listing the figures.
* Ids prefixed with the chart's key, so several charts on one page never share an id.
"""

import functools
import html
import importlib.util
import io
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from django.utils.safestring import mark_safe

FONT = "DejaVu Sans"
FONT_FILE = (
    Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0])
    / "mpl-data"
    / "fonts"
    / "ttf"
    / "DejaVuSans.ttf"
)
FONT_FALLBACK = "'DejaVu Sans', Verdana, sans-serif"

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "arsrapport",
    "svg.image_inline": True,
    "font.family": [FONT],
    "font.size": 9,
    "text.parse_math": False,  # a "$" in an association's name is a dollar sign, not TeX
    "text.usetex": False,
    "axes.edgecolor": "#777777",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BRAND = "#00507a"
SECOND = "#b35900"  # contrasts with BRAND and with white (WCAG 1.4.11)
WIDTH = 5.0  # inches; the page shows it about 30 rem wide, the PDF 125 mm
MAX_BARS = 15  # more than this and the rest become one bar, "Övriga"
LABEL_CHARS = 28
MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

# rcParams are global: one chart at a time, also under a threaded server.
_lock = threading.Lock()


@functools.cache
def _mpl():
    """matplotlib, imported on first use: it takes half a second, which every process that
    loads the URLs (tests, management commands) would otherwise pay."""
    import matplotlib

    matplotlib.use("svg")  # no GUI backend, whatever the environment says
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    return SimpleNamespace(
        matplotlib=matplotlib,
        Canvas=FigureCanvasSVG,
        Figure=Figure,
        FuncFormatter=FuncFormatter,
        MaxNLocator=MaxNLocator,
    )


@dataclass(frozen=True)
class Chart:
    key: str  # the table the chart belongs to
    title: str
    svg: str

    @property
    def html(self):
        """The SVG for a template. Safe: we build it, and matplotlib escapes every label."""
        return mark_safe(self.svg)  # noqa: S308


# --- numbers ---------------------------------------------------------------------------


def swedish_number(value, decimals=0):
    """1234567.5 → "1 234 567,50": a no-break space between thousands, a decimal comma."""
    text = f"{Decimal(value or 0):,.{decimals}f}"
    return text.replace(",", "\xa0").replace(".", ",")


def _kronor(value):
    return f"{swedish_number(value)} kr"


def _axis_kronor(value, _position=None):
    """Axis ticks: whole kronor, or thousands (tkr) and millions (mnkr) when large."""
    if abs(value) >= 1_000_000:
        return f"{swedish_number(Decimal(str(value)) / 1_000_000, 1)} mnkr"
    if abs(value) >= 10_000:
        return f"{swedish_number(Decimal(str(value)) / 1_000)} tkr"
    return f"{swedish_number(Decimal(str(value)))} kr"


def _short(label):
    label = str(label or "–")
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


# --- rendering ---------------------------------------------------------------------------


def _svg(figure):
    buffer = io.StringIO()
    _mpl().Canvas(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'\bxlink:href="#([^"]+)"')
# A reference to anything outside the SVG, or anything that could run. Labels are text
# (escaped by matplotlib), so an address typed into a name is no reference.
_UNSAFE = re.compile(r'(?:href|src)="(?!#)|url\((?!#)|<script|<foreignObject|\son[a-z]+="|xmlns', re.IGNORECASE)


def _finish(raw, *, key, title, description):
    """matplotlib's document → an accessible, self-contained inline <svg> element."""
    body = raw[raw.index("<svg") :]
    body = re.sub(r"\s*<metadata>.*?</metadata>", "", body, flags=re.DOTALL)
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)
    body = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', body)
    body = _URL_REF.sub(lambda m: f"url(#{key}-{m.group(1)})", body)
    body = _HREF.sub(lambda m: f'href="#{key}-{m.group(1)}"', body)
    body = body.replace(f"font-family: '{FONT}'", f"font-family: {FONT_FALLBACK}")
    opening = body[: body.index(">") + 1]
    size = dict(re.findall(r'\b(width|height|viewBox)="([^"]+)"', opening))
    title_id = f"{key}-title"
    new_opening = (
        f'<svg class="chart" width="{size["width"]}" height="{size["height"]}" viewBox="{size["viewBox"]}" '
        f'role="img" aria-labelledby="{title_id}" aria-label="{html.escape(title)}">'
        f'<title id="{title_id}">{html.escape(title)}</title>'
        f"<desc>{html.escape(description)}</desc>"
    )
    svg = new_opening + body[len(opening) :]
    if _UNSAFE.search(svg):  # cannot happen with the steps above; never ship it if it does
        raise ValueError("Diagrammet innehåller en extern referens eller ett skript.")
    return svg.strip()


def _render(draw, *, key, title, description, height):
    mpl = _mpl()
    with _lock, mpl.matplotlib.rc_context(STYLE):
        figure = mpl.Figure(figsize=(WIDTH, height), layout="constrained")
        draw(figure)
        raw = _svg(figure)
    return _finish(raw, key=key, title=title, description=description)


def _empty(figure, message):
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555555", transform=axes.transAxes)


def bar_chart(*, key, title, labels, values, empty_text="Inga uppgifter"):
    """Horizontal bars (names can be long), largest first as given, values in kronor.
    Beyond MAX_BARS the rest are summed into one bar "Övriga"."""
    pairs = [(_short(label), Decimal(value or 0)) for label, value in zip(labels, values)]
    if len(pairs) > MAX_BARS:
        rest = pairs[MAX_BARS - 1 :]
        pairs = pairs[: MAX_BARS - 1] + [(f"Övriga ({len(rest)} st)", sum((v for _, v in rest), Decimal(0)))]
    has_data = any(value for _, value in pairs)
    description = "; ".join(f"{label}: {_kronor(value)}" for label, value in pairs) if has_data else empty_text

    def draw(figure):
        if not has_data:
            _empty(figure, empty_text)
            return
        axes = figure.add_subplot()
        names = [label for label, _ in pairs]
        amounts = [float(value) for _, value in pairs]
        positions = list(range(len(names)))
        bars = axes.barh(positions, amounts, color=BRAND, height=0.65)
        axes.set_yticks(positions, labels=names)
        axes.set_ylim(max(len(names), 2) - 0.5, -0.5)  # first row at the top, as in the table; thin bars for few rows
        axes.xaxis.set_major_formatter(_mpl().FuncFormatter(_axis_kronor))
        axes.xaxis.set_major_locator(_mpl().MaxNLocator(nbins=4, min_n_ticks=2))
        axes.bar_label(bars, labels=[_kronor(value) for _, value in pairs], padding=3, fontsize=8)
        axes.set_xlim(0, max(amounts) * 1.3)
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)

    height = 1.0 + 0.32 * max(len(pairs), 2) if has_data else 1.4
    return _render(draw, key=key, title=title, description=description, height=height)


def line_chart(*, key, title, series, y_label="", empty_text="Inga uppgifter"):
    """One line per series over the twelve months; series = [(label, [12 numbers])]."""
    has_data = any(value for _, values in series for value in values)
    description = (
        " ".join(
            f"{label}: " + ", ".join(f"{month} {swedish_number(value)}" for month, value in zip(MONTHS, values)) + "."
            for label, values in series
        )
        if has_data
        else empty_text
    )
    styles = [(BRAND, "-", "o"), (SECOND, "--", "s"), ("#4d7f2b", ":", "^"), ("#6b3fa0", "-.", "D")]

    def draw(figure):
        if not has_data:
            _empty(figure, empty_text)
            return
        axes = figure.add_subplot()
        months = list(range(1, 13))
        for (label, values), (color, dash, marker) in zip(series, styles):
            axes.plot(
                months,
                [float(value or 0) for value in values],
                color=color,
                linestyle=dash,
                marker=marker,
                markersize=4,
                linewidth=1.8,
                label=label,
            )
        axes.set_xticks(months, labels=MONTHS)
        axes.yaxis.set_major_locator(_mpl().MaxNLocator(integer=True, nbins=5, min_n_ticks=2))
        axes.yaxis.set_major_formatter(_mpl().FuncFormatter(lambda value, _p: swedish_number(Decimal(str(value)))))
        axes.set_ylim(bottom=0)
        if y_label:
            axes.set_ylabel(y_label)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        figure.legend(frameon=False, loc="outside upper left", ncols=min(len(series), 3))

    return _render(draw, key=key, title=title, description=description, height=2.8 if has_data else 1.4)


# --- the annual report's charts ----------------------------------------------------------

BAR_CHARTS = {
    "by_committee": "Beviljat belopp per nämnd",
    "by_programme": "Beviljat belopp per bidragsform",
    "by_priority_area": "Beviljat belopp per prioriterat område",
    "by_target_group": "Beviljat belopp per målgrupp",
}


def _money_column(table):
    """The granted amount if the table has one, else its first money column."""
    money = [column for column in table.columns if column.kind == "money"]
    return next((column for column in money if "grant" in column.key), money[0] if money else None)


def _label_column(table):
    return next((column for column in table.columns if column.kind == "text"), None)


def report_charts(report):
    """The charts for the report's tables, keyed by table key; tables without a chart, or
    missing from the report, have none. The same strings go to the page and the PDF."""
    empty = f"Inga uppgifter för {report.filters.year}"
    tables = {table.key: table for table in report.tables}
    charts = {}
    for key, title in BAR_CHARTS.items():
        table = tables.get(key)
        if table is None or (value_column := _money_column(table)) is None:
            continue
        label_column = _label_column(table)
        full_title = f"{title} {report.filters.year}"
        charts[key] = Chart(
            key,
            full_title,
            bar_chart(
                key=f"chart-{key}",
                title=full_title,
                empty_text=empty,
                labels=[row.get(label_column.key) if label_column else "" for row in table.rows],
                values=[row.get(value_column.key) for row in table.rows],
            ),
        )
    if (table := tables.get("by_month")) is not None:
        counts = [column for column in table.columns if column.kind == "int" and column.key != "month"]
        if counts:
            title = f"Ansökningar och beslut per månad {report.filters.year}"
            series = counts
            y_label = "Antal"
        else:
            title = f"Beviljat belopp per månad {report.filters.year}"
            series = [column for column in [_money_column(table)] if column]
            y_label = "kr"
        rows = {int(row.get("month") or 0): row for row in table.rows}
        charts["by_month"] = Chart(
            "by_month",
            title,
            line_chart(
                key="chart-by_month",
                title=title,
                empty_text=empty,
                y_label=y_label,
                series=[
                    (column.label, [rows.get(month, {}).get(column.key) or 0 for month in range(1, 13)])
                    for column in series
                ],
            ),
        )
    return charts
