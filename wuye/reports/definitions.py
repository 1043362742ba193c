"""The definitions of every figure, once: the words shown next to each figure on the pages,
the PDF and the API, and the pure arithmetic (no database, no clock) the selectors use.

README.md ("Definitions") says the same with a worked example."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from wuye.core.money import ZERO

DEFINITIONS = {
    "receivable": _(
        "Receivable (应收) of a period: the fee charges of that billing period (property fees, "
        "ad hoc charges and debit notes; not late fees, deposits or opening arrears), less the "
        "waivers and credit notes approved by the report date. Cancelled charges count nowhere."
    ),
    "collection_rate": _(
        "Collection rate (当期收缴率) = money applied to the period's charges by the end of the "
        "period (or the report date, if earlier) ÷ the period's receivable. Money paid ahead in "
        "earlier months and prepayment used for the charges count; voids and refunds subtract "
        "in the month they are approved."
    ),
    "cumulative_rate": _(
        "Cumulative collection rate (累计收缴率) = money applied to the period's charges by the "
        "report date, whenever paid ÷ the period's receivable: it keeps rising as arrears come "
        "in."
    ),
    "year_rate": _(
        "Year collection rate (年度收缴率) = money applied by the report date to the charges of "
        "the periods from January to the report month ÷ their receivable. Last year's figure "
        "is the same for last year, as at the same month's end."
    ),
    "household_rate": _(
        "Household collection rate (户收费率) = households (units) billed fees for the period "
        "that owe nothing on them now ÷ households billed fees for the period."
    ),
    "clearance_rate": _(
        "Arrears clearance rate (清缴率, 清欠率) = money received in the month for charges of "
        "earlier periods (fees and opening arrears) ÷ what was owed on them at the start of "
        "the month."
    ),
    "aging": _(
        "Aging (账龄): what is owed now on fees and opening arrears, by days since the charge's "
        "due date: not yet due, 0-30, 31-90, 91-180, 181-365 days, over one year."
    ),
    "split": _(
        "Every payment splits into current period (charges of the month it is received in), "
        "recovered arrears (charges of earlier periods) and prepayment (charges of later "
        "periods paid ahead, and money kept as prepayment balance). Uses of the prepayment "
        "balance are not new money and are not split again."
    ),
    "owing_households": _(
        "Households owing: units with anything unpaid on fees or opening arrears, including "
        "this month's bill, of the households billed them."
    ),
    "channels": _(
        "Received by method: payments by their method on their business day, less voids and "
        "refunds on the day they are approved."
    ),
    "disputes": _(
        "Service disputes by category: raised and resolved in the month; time to resolve is "
        "from raised to resolved, in hours; open: not resolved at the report date; work "
        "orders past their promised deadline (承诺时限) and not closed at the report date."
    ),
}

BUCKETS = [
    ("not_due", _("not yet due"), None, -1),
    ("0_30", _("0-30 days"), 0, 30),
    ("31_90", _("31-90 days"), 31, 90),
    ("91_180", _("91-180 days"), 91, 180),
    ("181_365", _("181-365 days"), 181, 365),
    ("over_365", _("over 1 year"), 366, None),
]


def bucket_of(due: date, as_of: date) -> str:
    """The aging bucket of a charge due on `due`, seen on `as_of`."""
    days = (as_of - due).days
    for code, _label, low, high in BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return code
    return BUCKETS[-1][0]


def bucket_due_range(code: str, as_of: date) -> tuple[date | None, date | None]:
    """(earliest, latest) due date of the charges in bucket `code` on `as_of` (None: open)."""
    for c, _label, low, high in BUCKETS:
        if c == code:
            latest = as_of - timedelta(days=low) if low is not None else None
            earliest = as_of - timedelta(days=high) if high is not None else None
            if code == "not_due":
                return as_of + timedelta(days=1), None
            return earliest, latest
    raise ValueError(code)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_add(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    total = y * 12 + m - 1 + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def month_end(month: str) -> date:
    nxt = month_add(month, 1)
    return date(int(nxt[:4]), int(nxt[5:7]), 1) - timedelta(days=1)


def months_of_year(year: int, through: int = 12) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, through + 1)]


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """A rate with 4 places (0.8532 = 85.32%), or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def split_kind(charge_period: str, money_month: str) -> str:
    """How money received in `money_month` for a charge of `charge_period` counts."""
    if charge_period == money_month:
        return "current"
    return "arrears" if charge_period < money_month else "advance"


@dataclass(frozen=True)
class Rate:
    """A rate and the two sums it divides (with what made the denominator)."""

    part: Decimal = ZERO
    whole: Decimal = ZERO
    billed: Decimal = ZERO
    waived: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.part, self.whole)

    @property
    def percent(self) -> str:
        r = self.rate
        return "—" if r is None else f"{(r * 100).quantize(Decimal('0.01'))}%"

    def as_dict(self) -> dict:
        return {
            "part": str(self.part),
            "whole": str(self.whole),
            "billed": str(self.billed),
            "waived": str(self.waived),
            "rate": None if self.rate is None else str(self.rate),
        }
