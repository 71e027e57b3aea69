"""The review's charts drawn into the PDF pack with fpdf2's vector primitives.

The page draws the same series with Chart.js in the browser; a PDF is read on paper or a
phone with no script, so the pack draws them itself. Bars and lines only, with the plan or
target as a dashed line or a pale bar beside the actuals, as on the page.
"""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from agreements.exports import SlaPdf
from slaportal import numbers

ACTUAL = (13, 110, 253)  # the page's primary blue
PLAN = (173, 181, 189)  # grey: what was planned
SECOND = (25, 135, 84)  # green: a second actual series
TARGET = (220, 53, 69)  # red dashed: the line not to fall under
PLOT_HEIGHT = 52
# Title, axis labels under the plot, legend and a gap after: what a chart needs on a page.
CHART_HEIGHT = PLOT_HEIGHT + 30


@dataclass
class Series:
    name: str
    values: list
    color: tuple[int, int, int]


@dataclass
class Chart:
    title: str
    labels: list[str]
    bars: list[Series] = field(default_factory=list)
    lines: list[Series] = field(default_factory=list)
    # A horizontal plan or target line: (legend name, value).
    reference: tuple[str, float] | None = None
    percent: bool = False
    caption: str = ""

    @property
    def values(self) -> list[float]:
        every = [v for s in [*self.bars, *self.lines] for v in s.values if v is not None]
        if self.reference is not None:
            every.append(self.reference[1])
        return every


def review_pack_charts(data: dict) -> list[Chart]:
    """The page's three meeting charts, from the series `charts.review_charts` built."""
    funnel, trends, reps = data["funnel"], data["trends"], data["reps"]
    charts = [
        Chart(
            _("Funnel this month: plan against actual"),
            funnel["labels"],
            bars=[
                Series(_("Actual"), funnel["counts"], ACTUAL),
                Series(_("Monthly plan"), funnel["plan"], PLAN),
            ],
        ),
        Chart(
            _("MQLs and SQLs by month"),
            trends["labels"],
            lines=[
                Series(_("MQLs"), trends["mqls"], ACTUAL),
                Series(_("SQLs"), trends["sqls"], SECOND),
            ],
            reference=None
            if trends["mql_plan"] is None
            else (_("MQL plan a month"), trends["mql_plan"]),
        ),
        Chart(
            _("SLA compliance by rep"),
            reps["labels"],
            bars=[Series(_("Compliance"), reps["compliance"], ACTUAL)],
            reference=None
            if data["targets"]["compliance"] is None
            else (_("Target"), data["targets"]["compliance"]),
            percent=True,
            caption="" if reps["labels"] else _("No handoffs were due this month."),
        ),
    ]
    return charts


def _scale_top(values: list[float], percent: bool) -> float:
    if percent:
        return 100.0
    top = max(values, default=0) or 1
    # A round top (1, 2, 2.5 or 5 times a power of ten) so the grid lines read as numbers.
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * power:
            return step * power
    return 10 * power


def _tick(value: float, percent: bool) -> str:
    digits = 0 if float(value).is_integer() else 1
    return numbers.percent(value, digits) if percent else numbers.number(value, digits)


def _fit(pdf: SlaPdf, text: str, width: float) -> str:
    text = pdf.t(text)
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return pdf.t(text + "…")


def chart_draw(pdf: SlaPdf, chart: Chart) -> None:
    """One chart at the cursor, starting a page first when it would not fit on this one."""
    if pdf.will_page_break(CHART_HEIGHT):
        pdf.add_page()
    pdf.line_of(chart.title, 11, "B", gap=1)
    left, top = pdf.l_margin + 14, pdf.get_y() + 2
    width, height = pdf.epw - 14, PLOT_HEIGHT
    bottom = top + height
    scale = _scale_top(chart.values, chart.percent)

    def y_of(value: float) -> float:
        return bottom - height * min(value, scale) / scale

    # Grid and the y axis's numbers.
    pdf.set_line_width(0.15)
    pdf.set_draw_color(222, 226, 230)
    pdf.style(7)
    pdf.set_text_color(90)
    for step in range(5):
        value = scale * step / 4
        y = y_of(value)
        pdf.line(left, y, left + width, y)
        label = _tick(value, chart.percent)
        pdf.text(left - 1.5 - pdf.get_string_width(label), y + 1, label)

    count = max(len(chart.labels), 1)
    slot = width / count
    if not chart.labels or not chart.values:
        pdf.set_xy(left, top + height / 2 - 3)
        pdf.style(9, "I")
        pdf.cell(width, 6, pdf.t(chart.caption or _("No data for this month")), align="C")
    # Bars, side by side within each label's slot.
    if chart.bars:
        # A lone rep's bar as wide as the page reads as a wall: bars keep a readable width.
        group = min(slot * 0.7, 16 * len(chart.bars))
        bar = group / len(chart.bars)
        for index, series in enumerate(chart.bars):
            pdf.set_fill_color(*series.color)
            for position, value in enumerate(series.values):
                if value is None or value <= 0:
                    continue
                x = left + position * slot + (slot - group) / 2 + index * bar
                pdf.rect(x, y_of(value), bar * 0.92, bottom - y_of(value), style="F")
    # Lines through each slot's middle; a month with no figure breaks the line.
    for series in chart.lines:
        pdf.set_draw_color(*series.color)
        pdf.set_fill_color(*series.color)
        pdf.set_line_width(0.6)
        previous = None
        for position, value in enumerate(series.values):
            if value is None:
                previous = None
                continue
            point = (left + (position + 0.5) * slot, y_of(value))
            if previous is not None:
                pdf.line(*previous, *point)
            pdf.ellipse(point[0] - 0.8, point[1] - 0.8, 1.6, 1.6, style="F")
            previous = point
    if chart.reference is not None:
        pdf.set_draw_color(*TARGET)
        pdf.set_line_width(0.5)
        pdf.set_dash_pattern(dash=2, gap=1.2)
        y = y_of(chart.reference[1])
        pdf.line(left, y, left + width, y)
        pdf.set_dash_pattern()
    # The x axis and its labels, shortened to their slot.
    pdf.set_draw_color(120)
    pdf.set_line_width(0.25)
    pdf.line(left, bottom, left + width, bottom)
    pdf.style(7)
    pdf.set_text_color(40)
    for position, label in enumerate(chart.labels):
        text = _fit(pdf, label, slot - 1)
        x = left + (position + 0.5) * slot - pdf.get_string_width(text) / 2
        pdf.text(x, bottom + 4, text)
    _legend(pdf, chart, left, bottom + 8)
    # fpdf2's tables fill their cells with the current fill colour: leave the pen as found.
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    pdf.set_line_width(0.2)
    pdf.set_y(bottom + 14)


def _legend(pdf: SlaPdf, chart: Chart, x: float, y: float) -> None:
    keys = [(s.name, s.color, "bar") for s in chart.bars]
    keys += [(s.name, s.color, "line") for s in chart.lines]
    if chart.reference is not None:
        name, value = chart.reference
        keys.append((f"{name} ({_tick(value, chart.percent)})", TARGET, "dash"))
    pdf.style(7.5)
    pdf.set_text_color(40)
    for name, color, kind in keys:
        pdf.set_fill_color(*color)
        pdf.set_draw_color(*color)
        if kind == "bar":
            pdf.rect(x, y - 2.2, 4, 2.6, style="F")
        else:
            pdf.set_line_width(0.6 if kind == "line" else 0.5)
            if kind == "dash":
                pdf.set_dash_pattern(dash=1.5, gap=0.8)
            pdf.line(x, y - 0.9, x + 4, y - 0.9)
            pdf.set_dash_pattern()
        text = pdf.t(name)
        pdf.text(x + 5.5, y, text)
        x += 5.5 + pdf.get_string_width(text) + 6
