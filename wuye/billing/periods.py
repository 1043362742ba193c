"""Billing periods as a value object: `Period.parse("2026-12")`.

A period is a calendar month written `YYYY-MM`. A charge's `period` is the month its billing
cycle starts in (a quarterly item billed for Jan-Mar carries `2026-01`). Pure: no database,
no clock."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from wuye.core.errors import DomainError

_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, e.g. Period(2026, 12) written `2026-12`."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise DomainError(
                _("not a period: %(year)s-%(month)s; write YYYY-MM with a month 01-12")
                % {"year": self.year, "month": f"{self.month:02d}"},
                field="period",
            )

    @classmethod
    def parse(cls, text: "str | Period") -> "Period":
        """`2026-12` -> Period(2026, 12). Refuses `202612`, `2026-13`, `2026-1`."""
        if isinstance(text, Period):
            return text
        match = _PATTERN.match((text or "").strip())
        if not match:
            raise DomainError(
                _("not a period: %(text)s; write the month as YYYY-MM, e.g. 2026-12")
                % {"text": repr(text)},
                field="period",
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> "Period":
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def plus(self, months: int) -> "Period":
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def is_cycle_start(self, months: int) -> bool:
        """Whether a cycle of `months` (1, 3, 6, 12) starts in this month. Cycles are aligned
        to the calendar year: quarters start in Jan/Apr/Jul/Oct, half-years in Jan/Jul."""
        return (self.month - 1) % months == 0

    def cycle_end(self, months: int) -> date:
        """The last day of a cycle of `months` starting with this period."""
        return self.plus(months).start - timedelta(days=1)
