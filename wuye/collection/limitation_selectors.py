"""Reads for the limitation clock: the events on the record that may restart a period's clock,
the clocks of a party, and the periods of an estate whose clock ends soon (or has ended).

The events come from every place that holds evidence, each a small function registered in
`SOURCES` (payments, delivered messages; the collection models add demands, plans, promises
and filings). The arithmetic is `wuye.collection.limitation`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Min
from django.utils import timezone

from wuye.billing.models import Charge
from wuye.core.money import MoneySum
from wuye.notifications.models import Channel, Message, Purpose
from wuye.payments.models import Allocation, Payment
from wuye.registry.models import Estate, Party

from .limitation import WARN_DAYS, YEARS, Clock, Event, add_years, clocks

Source = Callable[[Party], Iterable[Event]]
SOURCES: list[Source] = []


def source(fn: Source) -> Source:
    """Register a function party -> events."""
    if fn not in SOURCES:
        SOURCES.append(fn)
    return fn


@source
def payment_events(party: Party) -> Iterable[Event]:
    """Every posted payment allocated to the party's charges, for the periods it paid into.
    A reversed allocation does not count, nor does the system applying an old prepayment
    (that is no act of the owner's on that day)."""
    rows = (
        Allocation.objects.filter(
            payment__party=party,
            payment__status=Payment.Status.POSTED,
            reverses__isnull=True,
            reversed_by__isnull=True,
        )
        .exclude(payment__channel=Payment.Channel.PREPAYMENT)
        .values("payment_id", "payment__business_date", "charge__period")
    )
    by_payment: dict[int, tuple[date, set[str]]] = {}
    for row in rows:
        day, periods = by_payment.setdefault(
            row["payment_id"], (row["payment__business_date"], set())
        )
        periods.add(row["charge__period"])
    for payment_id, (day, periods) in by_payment.items():
        yield Event(
            on=day,
            kind="part_payment",
            evidence=f"payment #{payment_id}",
            periods=frozenset(periods),
        )


OWN_ACCOUNT_CHANNELS = {Channel.WECHAT, Channel.APP}


@source
def message_events(party: Party) -> Iterable[Event]:
    """Reminders and demands the provider reported delivered to the owner's own phone number
    (SMS) or own account (WeChat, app), and registered letters delivered with a tracking
    number. Bill notices are not demands and do not count."""
    own_numbers = {n for n in (party.mobile, party.phone_alt) if n}
    messages = Message.objects.filter(
        party=party,
        status=Message.Status.DELIVERED,
        purpose__in=[Purpose.REMINDER, Purpose.FORMAL_DEMAND],
    ).only("id", "channel", "address", "delivered_at", "tracking_number", "params")
    for message in messages:
        day = message.delivered_at.date() if message.delivered_at else None
        if day is None:
            continue
        if message.channel == Channel.SMS and message.address in own_numbers:
            evidence = f"SMS #{message.pk} delivered to {message.address}"
        elif message.channel in OWN_ACCOUNT_CHANNELS:
            evidence = f"{message.channel} #{message.pk} delivered"
        elif message.channel == Channel.LETTER and message.tracking_number:
            evidence = f"registered letter {message.tracking_number}"
        else:
            continue
        # A demand's letter names its periods ("2026-09,2026-10"); a reminder concerns every
        # period due by the day it reached the owner.
        periods = str((message.params or {}).get("periods") or "")
        yield Event(
            on=day,
            kind="demand_delivered" if message.channel == Channel.LETTER else "message_delivered",
            evidence=evidence,
            periods=frozenset(periods.split(",")) if periods else None,
        )


def party_events(party: Party) -> list[Event]:
    events: list[Event] = []
    for fn in SOURCES:
        events.extend(fn(party))
    return sorted(events, key=lambda e: (e.on, e.kind))


def _open_charges():
    return Charge.objects.filter(status=Charge.Status.OPEN, outstanding__gt=0)


def party_due_dates(party: Party) -> dict[str, date]:
    """{period: earliest due date} of the party's charges still owed."""
    rows = _open_charges().filter(party=party).values("period").annotate(due=Min("due_date"))
    return {row["period"]: row["due"] for row in rows}


def party_clocks(party: Party, *, today: date) -> list[Clock]:
    """The clock of every period the party still owes, oldest first."""
    due = party_due_dates(party)
    if not due:
        return []
    return clocks(due_dates=due, events=party_events(party), today=today)


@dataclass
class PeriodRow:
    """A row of the limitation list: a party's period, its amount owed and its clock."""

    party: Party
    clock: Clock
    outstanding: Decimal


def periods_ending_within(
    estate: Estate, *, today: date, days: int = WARN_DAYS, barred: bool = False
) -> list[PeriodRow]:
    """Periods of `estate` whose clock ends within `days` (or, with `barred`, has ended),
    soonest first. Only periods due at least three years minus `days` ago can qualify before
    their restarts are known, so the candidates are few even in a large estate."""
    latest_due = add_years(today + timedelta(days=days), -YEARS)
    candidates = _open_charges().filter(estate=estate, due_date__lte=latest_due)
    keys = candidates.values("party_id", "period").annotate(
        due=Min("due_date"), owed=MoneySum("outstanding")
    )
    by_party: dict[int, dict[str, tuple[date, Decimal]]] = defaultdict(dict)
    for row in keys:
        by_party[row["party_id"]][row["period"]] = (row["due"], row["owed"])
    rows: list[PeriodRow] = []
    parties = Party.objects.in_bulk(list(by_party))
    for party_id, periods in by_party.items():
        party = parties[party_id]
        events = party_events(party)
        due = {period: value[0] for period, value in periods.items()}
        for clock in clocks(due_dates=due, events=events, today=today):
            if clock.barred if barred else (not clock.barred and clock.days_left <= days):
                rows.append(PeriodRow(party, clock, periods[clock.period][1]))
    rows.sort(key=lambda r: (r.clock.ends_on, r.party.name, r.clock.period))
    return rows


# --- collection's own evidence ----------------------------------------------------------------


@source
def demand_events(party: Party) -> Iterable[Event]:
    """Formal demands delivered with a proof (signed receipt or the post office's record)."""
    from .models import FormalDemand

    for d in FormalDemand.objects.filter(party=party, status=FormalDemand.Status.DELIVERED).exclude(
        proof_sha256=""
    ):
        how = d.tracking_number or d.received_by
        yield Event(
            on=d.delivered_on,
            kind="demand_delivered",
            evidence=f"{d.number} ({how}) proof sha256 {d.proof_sha256[:16]}",
            periods=frozenset(d.periods) or None,
        )


@source
def plan_events(party: Party) -> Iterable[Event]:
    """Installment plans the owner signed (the signed scan is on file), whatever became of
    them: the signature acknowledged the debt on that day."""
    from .models import InstallmentPlan

    plans = InstallmentPlan.objects.filter(party=party, signed_on__isnull=False).exclude(
        signed_sha256=""
    )
    for plan in plans.prefetch_related("plan_charges__charge"):
        yield Event(
            on=plan.signed_on,
            kind="plan_signed",
            evidence=f"{plan.number} signed, sha256 {plan.signed_sha256[:16]}",
            periods=frozenset(pc.charge.period for pc in plan.plan_charges.all()) or None,
        )


@source
def promise_events(party: Party) -> Iterable[Event]:
    """Promises to pay with a signed record attached to their contact (a signed receipt or a
    call recording); a promise said on the phone and not recorded proves nothing."""
    from .models import PromiseToPay

    promises = PromiseToPay.objects.filter(
        case__party=party, contact__attachments__isnull=False
    ).distinct()
    for p in promises.select_related("contact"):
        yield Event(
            on=timezone.localdate(p.contact.at),
            kind="promise_signed",
            evidence=f"promise #{p.pk}, contact #{p.contact.seq}",
        )


@source
def legal_events(party: Party) -> Iterable[Event]:
    """A filing in court or arbitration, and the judgment that ends the proceedings."""
    from .models import LegalCase

    for legal in LegalCase.objects.filter(party=party, filed_on__isnull=False):
        number = legal.case_number or f"#{legal.pk}"
        yield Event(on=legal.filed_on, kind="filing", evidence=f"filed {number}")
        if legal.judgment_on:
            yield Event(on=legal.judgment_on, kind="judgment", evidence=f"judgment {number}")
