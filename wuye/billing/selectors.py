"""Reads of billing: staff lists (estate-scoped), the statement of account (對賬單), the
payment notice figures, and the books check (control account = subledger)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from wuye.core.money import ZERO, MoneySum
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.registry.models import Estate, Party
from wuye.registry.selectors import scope

from . import outstanding as settlements
from .models import (
    BillingPeriod,
    BillingRun,
    Charge,
    CreditNote,
    DepositRelease,
    FeeStop,
    LateFeeAssessment,
    PrepaymentMovement,
    Waiver,
)


def runs_for(user) -> QuerySet[BillingRun]:
    qs = BillingRun.objects.select_related("estate", "created_by")
    ids = scope(Estate.objects.all(), user, "id").values_list("id", flat=True)
    if user.has_perm("registry.access_all_estates"):
        return qs
    return qs.filter(estate_id__in=list(ids))


def charges_for(
    user,
    *,
    estate_id: int | None = None,
    unit_id: int | None = None,
    party_id: int | None = None,
    period: str = "",
    status: str = "",
    kind: str = "",
    run_id: int | None = None,
) -> QuerySet[Charge]:
    qs = scope(Charge.objects.select_related("unit", "party", "fee_item"), user)
    filters = {
        "estate_id": estate_id,
        "unit_id": unit_id,
        "party_id": party_id,
        "period": period,
        "status": status,
        "kind": kind,
        "run_id": run_id,
    }
    return qs.filter(**{k: v for k, v in filters.items() if v})


def waivers_for(user, *, status: str = "") -> QuerySet[Waiver]:
    qs = scope(Waiver.objects.select_related("charge", "charge__unit", "charge__fee_item"), user)
    return qs.filter(status=status) if status else qs


def deposit_releases_for(user, *, status: str = "") -> QuerySet[DepositRelease]:
    qs = scope(
        DepositRelease.objects.select_related(
            "charge", "charge__unit", "charge__party", "charge__fee_item", "requested_by"
        ),
        user,
    )
    return qs.filter(status=status) if status else qs


def fee_stops_for(user) -> QuerySet[FeeStop]:
    return scope(
        FeeStop.objects.select_related("unit", "fee_item", "estate", "created_by"), user
    ).order_by("-created_at", "-id")


def periods_for(user) -> QuerySet[BillingPeriod]:
    return scope(BillingPeriod.objects.select_related("estate", "closed_by"), user).order_by(
        "-period", "estate__code"
    )


@dataclass
class ChargeHistory:
    """What happened to one charge: the corrections and decisions staff look at before the
    next one."""

    waivers: list[Waiver]
    credit_notes: list[CreditNote]
    debit_notes: list[Charge]
    late_fees: list[Charge]
    releases: list[DepositRelease]
    deposit_held: Decimal  # a deposit: paid and not yet refunded or forfeited


def charge_history(charge: Charge) -> ChargeHistory:
    derived = list(charge.derived.select_related("fee_item").order_by("bill_date", "id"))
    releases = list(charge.releases.select_related("requested_by", "decided_by"))
    held = ZERO
    if charge.kind == Charge.Kind.DEPOSIT:
        paid = settlements.settled([charge.pk]).get(charge.pk, ZERO)
        released = sum(
            (r.amount for r in releases if r.status == DepositRelease.Status.APPROVED), ZERO
        )
        held = paid - released
    return ChargeHistory(
        waivers=list(charge.waivers.select_related("requested_by", "decided_by")),
        credit_notes=list(charge.credit_notes.select_related("created_by")),
        debit_notes=[c for c in derived if c.kind == Charge.Kind.DEBIT_NOTE],
        late_fees=[c for c in derived if c.kind == Charge.Kind.LATE_FEE],
        releases=releases,
        deposit_held=held,
    )


# --- statement of account -----------------------------------------------------------------


@dataclass
class StatementLine:
    date: date
    kind: str
    text: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = ZERO


@dataclass
class Statement:
    """A party's statement of account. `closing` is what the party owes net of money held for
    them: it always equals `open_charges - prepaid` (negative when they have paid ahead)."""

    party: Party
    lines: list[StatementLine]
    opening: Decimal
    closing: Decimal
    open_charges: Decimal  # the sum of `outstanding` of the party's charges
    prepaid: Decimal = ZERO  # the party's unused prepayment balance (all earmarks)


def party_statement(
    party: Party, *, start: date | None = None, end: date | None = None
) -> Statement:
    """Every charge, late fee, waiver, credit note, cancellation, opening prepaid balance and
    (from the payments app) payment, void and refund of the party, in date order with a running
    balance. Lines before `start` make up the opening balance.

    Money received is a credit when it comes in, whether it settles charges or stays as
    prepayment; a later use of prepayment moves nothing. A void or refund is a debit of its
    own on the day it was approved (the payment it reverses stays as it was)."""
    raw: list[StatementLine] = []
    charges = Charge.objects.filter(party=party).select_related("fee_item", "unit")
    # A late fee replaced by a later total (see billing.services.late_fees) is left out with
    # its cancellation: one late-fee line per overdue charge, with its days and total.
    replaced = set(
        LateFeeAssessment.objects.filter(replaced__party=party).values_list(
            "replaced_id", flat=True
        )
    )
    for c in charges:
        if c.pk in replaced:
            continue
        raw.append(StatementLine(c.bill_date, c.kind, f"{c.unit.number} {c.label}", c.amount, ZERO))
        if c.status == Charge.Status.CANCELLED:
            day = c.cancelled_at.date() if c.cancelled_at else c.bill_date
            raw.append(StatementLine(day, "cancelled", f"撤销 {c.label}", ZERO, c.amount))
    for w in Waiver.objects.filter(
        charge__party=party, status=Waiver.Status.APPROVED
    ).select_related("charge", "charge__fee_item"):
        day = w.decided_at.date() if w.decided_at else w.requested_at.date()
        raw.append(
            StatementLine(day, "waiver", f"减免 {w.charge.label}: {w.reason}", ZERO, w.amount)
        )
    for n in CreditNote.objects.filter(charge__party=party).select_related(
        "charge", "charge__fee_item"
    ):
        raw.append(
            StatementLine(
                n.created_at.date(), "credit_note", f"红字 {n.charge.label}", ZERO, n.amount
            )
        )
    for m in PrepaymentMovement.objects.filter(
        party=party, kind=PrepaymentMovement.Kind.OPENING
    ).select_related("fee_item"):
        text = f"期初预存 {m.fee_item.name if m.fee_item else ''} {m.memo}".strip()
        raw.append(StatementLine(m.date, "opening_prepaid", text, ZERO, m.amount))
    for extra in settlements.statement_lines(party):
        raw.append(
            StatementLine(
                extra["date"],
                extra.get("kind", "payment"),
                extra.get("text", ""),
                Decimal(extra.get("debit", 0)),
                Decimal(extra.get("credit", 0)),
            )
        )
    order = {
        "opening": 0,
        "opening_prepaid": 0,
        "regular": 1,
        "adhoc": 1,
        "deposit": 1,
        "debit_note": 2,
        "late_fee": 3,
        "payment": 5,
        "void": 6,  # after the payment it reverses, on the same day
        "refund": 6,
    }
    raw.sort(key=lambda line: (line.date, order.get(line.kind, 5)))
    balance, opening, lines = ZERO, ZERO, []
    for line in raw:
        balance += line.debit - line.credit
        line.balance = balance
        if start and line.date < start:
            opening = balance
            continue
        if end and line.date > end:
            continue
        lines.append(line)
    open_charges = charges.aggregate(s=MoneySum("outstanding"))["s"]
    prepaid = PrepaymentMovement.objects.filter(party=party).aggregate(s=MoneySum("amount"))["s"]
    closing = lines[-1].balance if lines else opening
    return Statement(party, lines, opening, closing, open_charges, prepaid)


def notice_charges(party: Party, period: str) -> list[Charge]:
    """What a payment notice for `period` lists: the party's open charges of that period and
    any earlier arrears."""
    return list(
        Charge.objects.filter(party=party, status=Charge.Status.OPEN)
        .filter(Q(period__lte=period))
        .select_related("fee_item", "unit")
        .order_by("period_start", "id")
    )


# --- the books check -------------------------------------------------------------------------


@dataclass
class BooksCheck:
    estate: str
    control: Decimal  # RECEIVABLE in the general ledger
    subledger: Decimal  # sum of outstanding of the estate's charges

    @property
    def difference(self) -> Decimal:
        return self.control - self.subledger

    @property
    def ok(self) -> bool:
        return self.difference == 0


def books_check(estate_code: str = "") -> list[BooksCheck]:
    """For every estate: does the RECEIVABLE control account equal the open charges?"""
    estates = Estate.objects.order_by("code")
    if estate_code:
        estates = estates.filter(code=estate_code)
    sums = dict(
        Charge.objects.values("estate_id")
        .annotate(s=MoneySum("outstanding"))
        .order_by()
        .values_list("estate_id", "s")
    )
    out = []
    for estate in estates:
        control = Decimal(account_balance(estate, chart.RECEIVABLE)).quantize(Decimal("0.01"))
        sub = Decimal(sums.get(estate.pk) or 0).quantize(Decimal("0.01"))
        out.append(BooksCheck(estate.code, control, sub))
    return out


# --- more books checks (`wuye billing-check`, registered in apps.py) ----------------------


def checked_estates(estate_code: str = ""):
    """The estates a `wuye billing-check` row is drawn for: one by code, or every estate."""
    estates = Estate.objects.order_by("code")
    return estates.filter(code=estate_code) if estate_code else estates


def prepayment_checks(estate_code: str = "") -> list:
    """PREPAYMENTS in the ledger = the prepayment movements of the subledger, per estate."""
    from .checks import Check

    sums = dict(
        PrepaymentMovement.objects.values("estate_id")
        .annotate(s=MoneySum("amount"))
        .order_by()
        .values_list("estate_id", "s")
    )
    return [
        Check(
            estate=e.code,
            what="prepayments / prepayment movements",
            ledger=account_balance(e, chart.PREPAYMENTS),
            subledger=sums.get(e.pk) or ZERO,
        )
        for e in checked_estates(estate_code)
    ]


def deposit_checks(estate_code: str = "") -> list:
    """DEPOSITS in the ledger = the deposits raised (not cancelled) less those released
    (refunded or forfeited), per estate."""
    from .checks import Check

    raised = dict(
        Charge.objects.filter(kind=Charge.Kind.DEPOSIT)
        .exclude(status=Charge.Status.CANCELLED)
        .values("estate_id")
        .annotate(s=MoneySum("amount"))
        .order_by()
        .values_list("estate_id", "s")
    )
    released = dict(
        DepositRelease.objects.filter(status=DepositRelease.Status.APPROVED)
        .values("estate_id")
        .annotate(s=MoneySum("amount"))
        .order_by()
        .values_list("estate_id", "s")
    )
    return [
        Check(
            estate=e.code,
            what="deposits / deposits held",
            ledger=account_balance(e, chart.DEPOSITS),
            subledger=(raised.get(e.pk) or ZERO) - (released.get(e.pk) or ZERO),
        )
        for e in checked_estates(estate_code)
    ]


def contract_liability_checks(estate_code: str = "") -> list:
    """CONTRACT_LIABILITY (合同负债) in the ledger = the charges raised ahead of their period
    and not yet recognised as revenue, less their credit notes, per estate."""
    from .checks import Check
    from .services.revenue import contract_liability_due

    return [
        Check(
            estate=e.code,
            what="contract liability / fees raised ahead not yet recognised",
            ledger=account_balance(e, chart.CONTRACT_LIABILITY),
            subledger=contract_liability_due(e.pk),
        )
        for e in checked_estates(estate_code)
    ]


def cached_balance_checks(estate_code: str = "", chunk: int = 5000) -> list:
    """Each charge's cached `outstanding` = what its sources say (amount less approved
    waivers, credit notes and settlements; 0 once cancelled), per estate: the sums, and
    how many charges differ."""
    from .checks import Check

    out = []
    for e in checked_estates(estate_code):
        cached = derived = ZERO
        differ = 0
        ids = list(Charge.objects.filter(estate=e).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            waived = dict(
                Waiver.objects.filter(charge_id__in=part, status=Waiver.Status.APPROVED)
                .values("charge_id")
                .annotate(s=MoneySum("amount"))
                .order_by()
                .values_list("charge_id", "s")
            )
            credited = dict(
                CreditNote.objects.filter(charge_id__in=part)
                .values("charge_id")
                .annotate(s=MoneySum("amount"))
                .order_by()
                .values_list("charge_id", "s")
            )
            settled = settlements.settled(part)
            for pk, amount, outstanding, status in Charge.objects.filter(pk__in=part).values_list(
                "pk", "amount", "outstanding", "status"
            ):
                should = (
                    ZERO
                    if status == Charge.Status.CANCELLED
                    else amount
                    - (waived.get(pk) or ZERO)
                    - (credited.get(pk) or ZERO)
                    - settled.get(pk, ZERO)
                )
                cached += outstanding
                derived += should
                differ += outstanding != should
        out.append(
            Check(
                estate=e.code,
                what="cached outstanding / charges' sources",
                ledger=cached,
                subledger=derived,
                note=f"{differ} charge(s) differ" if differ else "",
            )
        )
    return out
