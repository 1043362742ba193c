"""The arithmetic of an installment plan (分期协议): its schedule and how it stands.

Pure: Decimal money, dates passed in, no database, no clock.

- An equal schedule splits the total into `count` instalments a month (or `every_months`)
  apart, to the fen; the fen that do not divide go to the last instalment, so every earlier
  one is the same round figure the owner agreed to on the phone.
- A custom schedule is the owner's own dates and amounts: dates strictly later one after the
  other, each amount above zero, the amounts adding up to the total exactly.
- How the plan stands: what has been paid towards the plan's charges since it was signed is
  applied to the instalments in date order. An instalment is kept when covered, missed when
  its date plus the grace days has passed uncovered; one missed instalment breaks the plan.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from wuye.core.errors import DomainError

FEN = Decimal("0.01")
MAX_INSTALMENTS = 36


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def equal_schedule(
    *, total: Decimal, count: int, first_due: date, every_months: int = 1
) -> list[tuple[date, Decimal]]:
    """`count` instalments adding up to `total`, the first on `first_due`."""
    if total <= 0:
        raise DomainError(_("the plan covers nothing owed"), field="total")
    if not 2 <= count <= MAX_INSTALMENTS:
        raise DomainError(
            _("a plan has 2 to %(max)s instalments, not %(count)s")
            % {"max": MAX_INSTALMENTS, "count": count},
            field="count",
        )
    if every_months < 1:
        raise DomainError(_("instalments are at least a month apart"), field="every_months")
    each = (total / count).quantize(FEN, rounding=ROUND_DOWN)
    if each <= 0:
        raise DomainError(_("the instalments would be below one fen"), field="count")
    amounts = [each] * (count - 1) + [total - each * (count - 1)]
    return [(add_months(first_due, i * every_months), amount) for i, amount in enumerate(amounts)]


def check_custom_schedule(
    *, total: Decimal, rows: list[tuple[date, Decimal]], not_before: date
) -> list[tuple[date, Decimal]]:
    """The owner's own dates and amounts, checked: refused with the row that is wrong."""
    if not 1 <= len(rows) <= MAX_INSTALMENTS:
        raise DomainError(
            _("a plan has 1 to %(max)s instalments") % {"max": MAX_INSTALMENTS}, field="schedule"
        )
    previous = None
    for number, (day, amount) in enumerate(rows, start=1):
        if amount <= 0 or amount != amount.quantize(FEN):
            raise DomainError(
                _("instalment %(number)s: the amount must be above zero, to the fen")
                % {"number": number},
                field="schedule",
            )
        if day < not_before:
            raise DomainError(
                _("instalment %(number)s: %(day)s is before %(first)s")
                % {"number": number, "day": day, "first": not_before},
                field="schedule",
            )
        if previous is not None and day <= previous:
            raise DomainError(
                _("instalment %(number)s: %(day)s is not after the one before")
                % {"number": number, "day": day},
                field="schedule",
            )
        previous = day
    added = sum((amount for _, amount in rows), Decimal("0.00"))
    if added != total:
        raise DomainError(
            _("the instalments add up to %(added)s, the plan covers %(total)s")
            % {"added": added, "total": total},
            field="schedule",
        )
    return list(rows)


@dataclass(frozen=True)
class InstalmentState:
    """One instalment on a day: covered so far, and kept / due / missed."""

    number: int
    due_on: date
    amount: Decimal
    covered: Decimal
    state: str  # "kept", "due" (date not passed, or within grace), "missed"


def plan_states(
    *, schedule: list[tuple[date, Decimal]], paid: Decimal, today: date, grace_days: int = 0
) -> list[InstalmentState]:
    """Apply `paid` (since signing) to the instalments in order and judge each on `today`."""
    left = max(paid, Decimal("0.00"))
    states = []
    for number, (due_on, amount) in enumerate(schedule, start=1):
        covered = min(left, amount)
        left -= covered
        if covered >= amount:
            state = "kept"
        elif today > due_on + timedelta(days=grace_days):
            state = "missed"
        else:
            state = "due"
        states.append(InstalmentState(number, due_on, amount, covered, state))
    return states
