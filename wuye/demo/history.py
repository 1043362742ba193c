"""A year of the demo company's fees and payments (issue 16's demo), set-wise.

For each of the twelve months up to the current one, oldest first: each estate's bill run is
posted (`billing_run_post`, set-wise already), then that month's payments are taken, so the
books hold a true year -- what was billed when, what came in when and for which months --
and every figure of the dashboard (/reports/) has something to show: the monthly collection
rate, money recovered from earlier months (清欠), aging up to a year, the channel mix.

How a party pays is its *habit* (`habit_of`, drawn once per party from a fixed seed):

- a cadence: every month, every second month, every quarter, every half year (staggered
  across parties so that no month is empty), *late* (lets four or five months run up, then
  clears them: recovered arrears), or *stopped* (paid until some month of the year, then
  nothing; a third of them come back two to four months later and clear everything, the
  rest are the arrears the collectors chase, from one month to a year old);
- seasons: a payment due in a month may slip to the next month, most around the Spring
  Festival (February), the October holidays (国庆) and the summer holidays, least in
  December (the year-end drive) -- so the monthly collection rate has a shape;
- a channel: WeChat Pay and Alipay (online), bank transfer (the bank file), or the cashier
  window (cash, POS card). The window's payers come every second month or quarter.

Each payment pays everything the party owes for the months up to then (its charges named,
oldest first). Parties with a dispute or hardship note on file pay nothing all year.

Everything goes through the payment services, so receipts, journal entries, audit rows and
the reports' summary cells are the real ones: online and bank money through the set-wise
`payments_take` (one call per estate and day), the window through `payment_take` in a shift
the cashier opens and closes that day (window payments are taken one by one by design). The
few owners who pay the property fee twelve months ahead do so at the window this month.

Idempotent: a payment's key is `demo-pay:<payment ref>:<period>`, looked up first; a posted
run is not posted again. Run again in the same month it creates nothing; on a later day of
the month it takes the payments whose day has come since; in a later month it bills and
collects the new months.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from wuye.billing import calculations as billing_calc
from wuye.billing import services as billing
from wuye.billing.models import BillingRun, Charge
from wuye.billing.periods import Period
from wuye.core.errors import DomainError
from wuye.core.money import ZERO, money
from wuye.fees.models import FeeItem
from wuye.payments import services as payments
from wuye.payments.models import Payment
from wuye.payments.services.payments import PaymentRequest, payments_take
from wuye.registry.models import Estate, OwnerNote, Party, Unit, UnitParty
from wuye.reports import summaries

from . import plan
from .cycle import _estates, _staff, periods_billed

Created = dict[str, int]
PAY_KEY = "demo-pay:"

# cadence -> share of parties
CADENCES = [
    ("monthly", 0.26),
    ("bimonthly", 0.14),
    ("quarterly", 0.26),
    ("halfyear", 0.09),
    ("late", 0.08),
    ("stopped", 0.14),
    ("ahead", 0.03),
]
EVERY = {"monthly": 1, "ahead": 1, "bimonthly": 2, "quarterly": 3, "halfyear": 6, "late": 5}
CHANNELS = [("wechat", 0.40), ("alipay", 0.18), ("transfer", 0.16), ("cash", 0.15), ("pos", 0.11)]
WINDOW = ("cash", "pos")
WINDOW_DAYS = (6, 12, 18, 24)  # the days of a month the window is busy
# calendar month -> the chance that a payment due that month slips to the next
SLIP = {1: 0.12, 2: 0.45, 3: 0.08, 4: 0.06, 5: 0.12, 6: 0.05, 7: 0.15, 8: 0.22, 9: 0.05,
        10: 0.28, 11: 0.06, 12: 0.03}  # fmt: skip
RECOVER = 0.35  # share of stopped payers who come back and clear their arrears
AHEAD_PER_ESTATE = 2  # owners who pay the property fee a year ahead at the window this month


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


@dataclass(frozen=True)
class Habit:
    cadence: str
    phase: int  # staggers the cadence across parties
    day: int  # the day of the month the party usually pays
    channel: str
    stop: int  # stopped: the month index (0-11) from which nothing is paid
    back: int | None  # stopped: the month index at which the party clears everything


def habit_of(estate_code: str, payment_ref: str) -> Habit:
    rng = plan.rng_for("history", estate_code, payment_ref)
    cadence = _pick(rng, CADENCES)
    channel = _pick(rng, CHANNELS)
    if channel in WINDOW and cadence in ("monthly", "halfyear"):
        cadence = "bimonthly"  # window payers come in every second month or quarter
    stop = rng.randint(1, 11)
    back = stop + rng.randint(2, 4) if rng.random() < RECOVER else None
    return Habit(cadence, rng.randint(0, 5), rng.randint(3, 26), channel, stop, back)


def schedule(estate_code: str, party_ref: str, habit: Habit, months: list[Period]) -> set[int]:
    """The month indexes (0 = the oldest of the twelve) in which the party pays: a payment
    due in a month that slips (the season) is made the next month instead."""
    out, pending = set(), False
    every = EVERY.get(habit.cadence, 1)
    for index, period in enumerate(months):
        if habit.cadence == "stopped":
            if index == habit.back:
                out.add(index)  # back after the collectors' calls: clears everything
                pending = False
                continue
            if index >= habit.stop and (habit.back is None or index < habit.back):
                continue
        due = (index + habit.phase) % every == every - 1
        if not (due or pending):
            continue
        slip = plan.rng_for("slip", estate_code, party_ref, str(period)).random()
        if slip < SLIP[period.start.month]:
            pending = True
        else:
            out.add(index)
            pending = False
    return out


def _pay_day(habit: Habit, period: Period) -> date:
    """Online and bank money comes any day near the party's usual one; the window's payers
    come on the window's busy days (fewer shifts to open and close)."""
    rng = plan.rng_for("day", habit.day, str(period))
    day = max(1, min(28, habit.day + rng.randint(-2, 2)))
    if habit.channel in WINDOW:
        day = min(WINDOW_DAYS, key=lambda d: (abs(d - day), d))
    return period.start + timedelta(days=day - 1)


def _twelve_months(unit: Unit, item: FeeItem, rate: Decimal) -> Decimal:
    """What twelve full months of a per-m² fee cost, priced as the window prices them."""
    base = billing_calc.monthly_base(basis=item.basis, rate=rate, area=unit.gross_area)
    return money(base, unit=item.rounding_unit, mode=item.rounding_mode) * 12


@dataclass
class _Pay:
    party: Party
    key: str
    day: date
    channel: str
    amount: Decimal
    charge_ids: list[int]
    ahead: Charge | None = None  # the current property charge of a flat paid a year ahead
    keep_change: bool = False


def _bill(estate: Estate, period: Period, finance, created) -> None:
    runs = BillingRun.objects.filter(estate=estate, period=str(period)).exclude(
        status=BillingRun.Status.CANCELLED
    )
    if runs.filter(status=BillingRun.Status.POSTED).exists():
        return
    run = runs.filter(
        status__in=[BillingRun.Status.DRAFT, BillingRun.Status.PREVIEWED, BillingRun.Status.FAILED]
    ).first()
    if run is None:
        run = billing.billing_run_create(actor=finance, estate=estate, period=str(period))
    run = billing.billing_run_post(run=run, actor=finance)
    created["billing runs"] += 1
    created["charges"] += run.charges_created


def _silent_parties(estate: Estate) -> set[int]:
    """Parties with a dispute or hardship note on file, and the payers of those units: they
    pay nothing (their arrears are the collectors' hard cases)."""
    notes = OwnerNote.objects.filter(estate=estate)
    silent = set(notes.values_list("party_id", flat=True))
    silent |= set(
        UnitParty.objects.filter(unit_id__in=notes.values("unit_id")).values_list(
            "party_id", flat=True
        )
    )
    return silent


class _Estate:
    """What the month loop needs of one estate, read once."""

    def __init__(self, estate: Estate, months: list[Period]):
        self.estate = estate
        self.silent = _silent_parties(estate)
        self.taken = set(
            Payment.objects.filter(estate=estate, idempotency_key__startswith=PAY_KEY).values_list(
                "idempotency_key", flat=True
            )
        )
        self.parties = {
            p.pk: p for p in Party.objects.filter(estate=estate).order_by("pk") if p.payment_ref
        }
        self.habits = {pk: habit_of(estate.code, p.payment_ref) for pk, p in self.parties.items()}
        self.schedules = {
            pk: schedule(estate.code, self.parties[pk].payment_ref, h, months)
            for pk, h in self.habits.items()
        }
        self.property = FeeItem.objects.filter(estate=estate, code="PROPERTY").first()
        self.ahead_left = AHEAD_PER_ESTATE
        self.prepaid = Payment.objects.filter(
            estate=estate, idempotency_key__startswith=PAY_KEY, prepaid__gt=0
        ).exists()


def _plan_month(ctx: _Estate, index: int, period: Period, today: date) -> list[_Pay]:
    current = period == Period.of(today)
    open_by_party: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        Charge.objects.filter(
            estate=ctx.estate,
            kind=Charge.Kind.REGULAR,
            status=Charge.Status.OPEN,
            period__lte=str(period),
        )
        .order_by("party_id", "period", "id")
        .values_list("party_id", "id", "outstanding", "period", "fee_item_id", "unit_id", "rate")
    ):
        open_by_party[row[0]].append(row)
    out = []
    for party_id, rows in open_by_party.items():
        party = ctx.parties.get(party_id)
        if party is None or party_id in ctx.silent or index not in ctx.schedules[party_id]:
            continue
        key = f"{PAY_KEY}{party.payment_ref}:{period}"
        if key in ctx.taken:
            continue
        habit = ctx.habits[party_id]
        day = _pay_day(habit, period)
        if day > today:
            continue  # not yet this month
        amount = sum((r[2] for r in rows), ZERO)
        pay = _Pay(party, key, day, habit.channel, amount, [r[1] for r in rows])
        if current and habit.cadence == "ahead" and ctx.ahead_left and ctx.property:
            flats = [r for r in rows if r[4] == ctx.property.pk and r[3] == str(period) and r[6]]
            if flats:
                ctx.ahead_left -= 1
                pay.channel = "pos"
                pay.ahead = Charge.objects.select_related("unit").get(pk=flats[0][1])
        if current and habit.channel == "transfer" and not ctx.prepaid:
            # one owner transfers a round sum and keeps the change as prepayment
            pay.amount = (amount / 1000 + 1).quantize(Decimal("1"), rounding=ROUND_DOWN) * 1000
            pay.keep_change = ctx.prepaid = True
        out.append(pay)
    return out


def _request(p: _Pay) -> PaymentRequest:
    bank, window = p.channel == "transfer", p.channel in WINDOW
    prefix = "TRF" if bank else p.channel.upper()
    return PaymentRequest(
        party=p.party,
        amount=money(p.amount),
        channel=p.channel,
        charge_ids=tuple(p.charge_ids),
        idempotency_key=p.key,
        external_ref="" if p.channel == "cash" else f"{prefix}-DEMO-{p.key[len(PAY_KEY) :]}",
        keep_change_as_prepayment=p.keep_change,
        source=(
            Payment.Source.WINDOW
            if window
            else Payment.Source.BANK
            if bank
            else Payment.Source.ONLINE
        ),
    )


def _taken(results: list, created) -> None:
    refused = [r for r in results if isinstance(r, Exception)]
    if refused:
        raise refused[0]
    created["payments"] += len(results)


def _take_online(day: date, pays: list[_Pay], created) -> None:
    """Online and bank money of one day: one set-wise call (the system takes it)."""
    _taken(payments_take(actor=None, requests=[_request(p) for p in pays], today=day), created)


def _take_window(ctx: _Estate, day: date, pays: list[_Pay], cashier, created) -> None:
    """The window's day: the cashier opens a shift, enters the day's slips in one batch,
    takes the owners paying a year ahead one by one, and closes the shift with what the
    cash box and the POS terminal should hold."""
    shift = payments.open_shift_of(cashier, ctx.estate.pk) or payments.shift_open(
        actor=cashier, estate=ctx.estate, float_amount="500.00", today=day
    )
    created["shifts"] += 1
    slips = [p for p in pays if p.ahead is None]
    for p in pays:
        if p.ahead is None:
            continue
        unit = p.ahead.unit
        try:
            with transaction.atomic():
                payments.payment_take(
                    actor=cashier,
                    party=p.party,
                    amount=money(p.amount) + _twelve_months(unit, ctx.property, p.ahead.rate),
                    channel=p.channel,
                    external_ref=f"POS-DEMO-{p.key[len(PAY_KEY) :]}",
                    idempotency_key=p.key,
                    today=day,
                    charge_ids=p.charge_ids,
                    unit=unit,
                    pay_ahead=payments.PayAhead(fee_item=ctx.property, months=12),
                )
            created["payments"] += 1
        except DomainError:
            slips.append(p)  # the window prices it otherwise (an offer, a cap): pay what is owed
    if slips:
        results = payments_take(
            actor=cashier, requests=[_request(p) for p in slips], today=day, shift=shift
        )
        _taken(results, created)
    expected = payments.shift_expected(shift)
    payments.shift_close(
        actor=cashier, shift=shift, counted_cash=expected["cash"], counted_pos=expected["pos"]
    )


def seed_history() -> Created:
    """Twelve months of bill runs and payments (see the module docstring), in one
    transaction; the reports' deltas of all its postings are written once, at its end
    (`summaries.batched`: the same cells, without loading and writing each unit's summary
    state again at each of the ~700 postings)."""
    with summaries.batched():
        return _seed_history()


def _seed_history() -> Created:
    finance, cashier = _staff("finance"), _staff("cashier")
    today = timezone.localdate()
    months = periods_billed(today)
    created: dict[str, int] = defaultdict(int)
    estates = _estates()
    contexts: list[_Estate] | None = None
    for index, period in enumerate(months):
        for estate in estates:
            _bill(estate, period, finance, created)
        if contexts is None:
            contexts = [_Estate(estate, months) for estate in estates]
        for ctx in contexts:
            by_day: dict[tuple[date, bool], list[_Pay]] = defaultdict(list)
            for pay in _plan_month(ctx, index, period, today):
                by_day[(pay.day, pay.channel in WINDOW or pay.ahead is not None)].append(pay)
            for (day, window), pays in sorted(by_day.items()):
                if window:
                    _take_window(ctx, day, pays, cashier, created)
                else:
                    _take_online(day, pays, created)
    return dict(created)
