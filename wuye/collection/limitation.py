"""The limitation clock (诉讼时效) of arrears, per billing period (Civil Code art. 188, 195).

Each period a party owes runs its own three-year clock from the due date of its charges. The
clock restarts only on an *evidenced* event that reached the owner or came from the owner
(art. 195):

- a formal demand that reached the owner: a signed hand-delivery receipt or a registered
  letter delivered (tracking number) -- `demand_delivered`;
- a message delivered to the owner's own phone or account (SMS to the party's own number,
  WeChat or app to the owner's own account) -- `message_delivered`;
- a part payment -- `part_payment` (for the periods it was allocated to);
- a signed promise to pay or a signed installment plan -- `promise_signed`, `plan_signed`;
- a filing in court or arbitration -- `filing` (and the judgment date, when the proceedings
  end).

A notice-board post or a group broadcast (`notice_board`, `group_broadcast`) never restarts
it: nobody can prove the owner saw it. Neither does a call with no record of what was said.

Decisions (conservative on purpose: a court decides, the system must not promise more):
- The clock ends on the same calendar date three years after the due date or the last
  restart (29 February -> 28 February). The period is time-barred from the day after.
- An event only restarts a period it concerns: a demand or plan for the periods it lists, a
  payment for the periods it paid into; an event with no list (a message) concerns every
  period due on or before its date.
- An event after the clock ended does not revive it. (A debtor's later promise may bar the
  defence in court -- 最高法诉讼时效规定 art. 19 -- but that is for a lawyer to argue.)
- Time-barred periods are marked, never deleted: the charges stay on the books and on
  statements; the mark only tells the collector the claim may fail in court.

The arithmetic here takes `today` and plain values, no database; `clocks_for_party` and
`periods_ending_within` in `wuye.collection.selectors_limitation` gather the events.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

YEARS = 3
WARN_DAYS = 90

RESTARTS = frozenset(
    {
        "demand_delivered",
        "message_delivered",
        "part_payment",
        "promise_signed",
        "plan_signed",
        "filing",
        "judgment",
    }
)
NEVER_RESTARTS = frozenset({"notice_board", "group_broadcast", "call_unrecorded"})


@dataclass(frozen=True)
class Event:
    """Something that happened on `on`; `periods` it concerns (None: every period due by
    then); `evidence` says what proves it (a tracking number, a file hash, a payment id)."""

    on: date
    kind: str
    evidence: str = ""
    periods: frozenset[str] | None = None

    @property
    def restarts(self) -> bool:
        return self.kind in RESTARTS and bool(self.evidence)

    def concerns(self, period: str, due_date: date) -> bool:
        if self.periods is None:
            return self.on >= due_date
        return period in self.periods


@dataclass
class Clock:
    """One period's limitation clock on `today`."""

    period: str
    due_date: date
    ends_on: date
    today: date
    restarts: list[Event] = field(default_factory=list)
    ignored: list[Event] = field(default_factory=list)

    @property
    def barred(self) -> bool:
        return self.today > self.ends_on

    @property
    def days_left(self) -> int:
        return (self.ends_on - self.today).days

    @property
    def ending_soon(self) -> bool:
        return not self.barred and self.days_left <= WARN_DAYS


def add_years(day: date, years: int = YEARS) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def period_clock(*, period: str, due_date: date, events: Iterable[Event], today: date) -> Clock:
    """The clock of one period: three years from `due_date`, restarted by each evidenced
    event that concerns the period and happened while the clock still ran."""
    ends_on = add_years(due_date)
    clock = Clock(period=period, due_date=due_date, ends_on=ends_on, today=today)
    for event in sorted(events, key=lambda e: (e.on, e.kind)):
        if not event.concerns(period, due_date) or event.on > today:
            continue
        if event.restarts and due_date <= event.on <= clock.ends_on:
            clock.ends_on = max(clock.ends_on, add_years(event.on))
            clock.restarts.append(event)
        else:
            clock.ignored.append(event)
    return clock


def clocks(*, due_dates: dict[str, date], events: Iterable[Event], today: date) -> list[Clock]:
    """Clocks of every period in `due_dates` ({period: earliest due date}), oldest first."""
    events = list(events)
    return [
        period_clock(period=period, due_date=due, events=events, today=today)
        for period, due in sorted(due_dates.items())
    ]
