"""More books checks for `wuye billing-check`, registered by apps above billing.

Billing may not import the apps above it; an app whose subledger must tie out with a ledger
account registers a function in its `AppConfig.ready()`:

    from wuye.billing import checks
    checks.register(my_check)   # my_check(estate_code) -> [Check(...), ...]
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Check:
    """One figure of the books against its subledger: `what` names both (e.g. "suspense
    wechat"); `note` says what else is off (rows that never reached the ledger)."""

    estate: str
    what: str
    ledger: Decimal
    subledger: Decimal
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.ledger == self.subledger and not self.note

    @property
    def difference(self) -> Decimal:
        return self.ledger - self.subledger


CheckFn = Callable[[str], list[Check]]
_checks: list[CheckFn] = []


def register(fn: CheckFn) -> CheckFn:
    if fn not in _checks:
        _checks.append(fn)
    return fn


def unregister(fn: CheckFn) -> None:
    if fn in _checks:
        _checks.remove(fn)


def run(estate_code: str = "") -> list[Check]:
    """Every registered check's rows."""
    rows: list[Check] = []
    for fn in _checks:
        rows.extend(fn(estate_code))
    return rows
