"""The monthly and quarterly collection report of an estate (收缴情况报告), as PDF with its
charts drawn by reportlab (embedded CJK font, like every PDF of wuye), and the unpaid
households with their reasons for internal use (phones masked unless the reader may see
them)."""

from datetime import date

from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Spacer

from wuye.core import pdf

from . import dashboard, selectors, tables
from .definitions import DEFINITIONS, month_add, month_end, month_of


def _trend_chart(points, font: str) -> Drawing:
    d = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 150 * mm, 45 * mm
    chart.data = [
        [float(p.rate.rate or 0) * 100 for p in points],
        [float(p.last_year.rate or 0) * 100 for p in points],
    ]
    chart.categoryAxis.categoryNames = [p.month[5:] for p in points]
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.valueAxis.labels.fontName = font
    chart.bars[0].fillColor = colors.HexColor("#0d6efd")
    chart.bars[1].fillColor = colors.HexColor("#adb5bd")
    d.add(chart)
    d.add(
        String(
            14 * mm, 57 * mm, _("blue: this year, grey: last year (%)"), fontName=font, fontSize=8
        )
    )
    return d


def _hbar_chart(labels: list[str], values: list[float], font: str, color: str) -> Drawing:
    height = max(len(labels), 1) * 7 * mm + 12 * mm
    d = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 40 * mm, 6 * mm
    chart.width, chart.height = 120 * mm, height - 12 * mm
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor(color)
    d.add(chart)
    return d


def collection_report(
    scope: selectors.Scope, as_of: date, *, kind: str = "month", reveal: bool = False
) -> bytes:
    """The report of the month (or the quarter) that `as_of` falls in, as at `as_of`."""
    font = pdf.register_font()
    s = pdf.styles()
    estate = selectors.estates_of(scope)[0]
    f = dashboard.figures(scope, as_of)
    month = month_of(as_of)
    if kind == "quarter":
        first = month_add(month, -((as_of.month - 1) % 3))
        months = [first, month_add(first, 1), month_add(first, 2)]
        title = _("Quarterly collection report")
    else:
        months = [month]
        title = _("Monthly collection report")
    months = [m for m in months if m <= month]
    story = [
        pdf.text(f"{estate.name} {title}", s["title"]),
        pdf.text(
            _("Periods %(first)s to %(last)s, as at %(day)s")
            % {"first": months[0], "last": months[-1], "day": as_of.isoformat()},
            s["center"],
        ),
        pdf.text(_("Collection rates"), s["heading"]),
    ]
    rows = [
        [
            _("Period"),
            _("Receivable"),
            _("Received in the period"),
            _("Rate"),
            _("Received to date"),
            _("Cumulative rate"),
            _("Household rate"),
        ]
    ]
    for m in months:
        rate = selectors.period_rate(scope, m, as_of)
        cum = selectors.cumulative_rate(scope, m, as_of)
        households = selectors.household_rate(scope, m)
        rows.append(
            [m, rate.whole, rate.part, rate.percent, cum.part, cum.percent, households.percent]
        )
    rows.append(
        [
            _("Year %(year)s") % {"year": as_of.year},
            f.year_rate.whole,
            f.year_rate.part,
            f.year_rate.percent,
            "",
            _("last year") + " " + f.year_rate_last_year.percent,
            "",
        ]
    )
    story.append(pdf.table(rows))
    clearance = [selectors.clearance_rate(scope, m) for m in months]
    story.append(
        pdf.text(
            _("Arrears clearance rate")
            + ": "
            + ", ".join(
                f"{m} {c.part}/{c.whole} = {c.percent}"
                for m, c in zip(months, clearance, strict=True)
            ),
            s["body"],
        )
    )
    story.append(pdf.text(_("Monthly collection rate, against last year"), s["heading"]))
    story.append(_trend_chart(f.trend, font))
    story.append(pdf.text(_("Money received, split"), s["heading"]))
    split_rows = [
        [
            _("Month"),
            _("Current period"),
            _("Recovered arrears"),
            _("Prepayment"),
            _("Late fees"),
            _("Total"),
        ]
    ]
    for m in months:
        sp = selectors.payment_split(scope, m)
        split_rows.append([m, sp.current, sp.arrears, sp.prepayment, sp.late_fees, sp.total])
    story.append(pdf.table(split_rows))
    story.append(pdf.text(_("Aging"), s["heading"]))
    story.append(
        _hbar_chart([b.label for b in f.aging], [float(b.amount) for b in f.aging], font, "#fd7e14")
    )
    story.append(pdf.table([[b.label for b in f.aging], [b.amount for b in f.aging]]))
    story.append(pdf.text(_("Arrears by building"), s["heading"]))
    story.append(
        pdf.table(
            [[_("Building"), _("Owed"), _("Households owing")]]
            + [[b.name, b.owing, f"{b.units_owing}/{b.units_billed}"] for b in f.buildings]
        )
    )
    story.append(pdf.text(_("Unpaid households by reason"), s["heading"]))
    story.append(
        pdf.table(
            [[_("Reason"), _("Households"), _("Overdue")]]
            + [[r["label"], r["households"], r["amount"]] for r in f.reasons]
        )
    )
    story.append(Spacer(1, 4 * mm))
    story.append(pdf.text(_("Definitions"), s["heading"]))
    for key in (
        "receivable",
        "collection_rate",
        "cumulative_rate",
        "household_rate",
        "clearance_rate",
        "aging",
        "split",
    ):
        story.append(pdf.text(str(DEFINITIONS[key]), s["small"]))
    # the unpaid households (internal)
    story.append(PageBreak())
    story.append(pdf.text(_("Unpaid households (internal use only)"), s["heading"]))
    p = tables.Params(
        start=date(as_of.year, as_of.month, 1), end=min(as_of, month_end(month)), reveal=reveal
    )
    table = tables.BY_NAME["arrears-list"]
    unpaid = list(table.rows(scope, p))
    story.append(pdf.table([[str(c) for c in table.columns]] + unpaid, font_size=8))
    return pdf.build(
        story,
        title=f"{estate.name} {title}",
        footer=lambda n: _("Internal: debtor data, do not post publicly. Page %(n)s") % {"n": n},
    )
