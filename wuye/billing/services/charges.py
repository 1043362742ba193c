"""Single charges and their corrections: ad hoc charges and deposits, the cached outstanding
balance, waivers (減免), credit and debit notes, deposit refunds and forfeits.

Every function is one transaction, writes its audit row, and posts its journal entry:

| document             | general ledger                                      |
|----------------------|-----------------------------------------------------|
| ad hoc charge        | Dr RECEIVABLE, Cr item.gl_account() (revenue, DEPOSITS or PASS_THROUGH) |
| waiver (approved)    | Dr WAIVERS, Cr RECEIVABLE                           |
| waiver (by policy)   | Dr WAIVERS, Cr RECEIVABLE                           |
| charge of one period | Dr RECEIVABLE, Cr item.gl_account()                 |
| credit note          | Dr item.gl_account(), Cr RECEIVABLE                 |
| debit note           | a new charge: Dr RECEIVABLE, Cr item.gl_account()   |
| deposit refund       | Dr DEPOSITS, Cr REFUNDS_PAYABLE                     |
| deposit forfeit      | Dr DEPOSITS, Cr the item's revenue account          |

A pass-through item (代收費, e.g. water collected for the utility) is credited to the
PASS_THROUGH liability and never reaches revenue.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.money import FEN, MoneySum, split
from wuye.fees.models import FeeItem
from wuye.ledger.models import JournalEntry
from wuye.ledger.services import entry_reverse
from wuye.registry.models import Party, Unit
from wuye.registry.selectors import payer_on

from .. import outstanding as settlements
from ..events import receivables_changed
from ..models import Charge, CreditNote, DepositRelease, Waiver
from ..periods import Period
from . import revenue
from ._common import (
    ZERO,
    AuditEvent,
    DomainError,
    PermissionDenied,
    audit_record,
    chart,
    ensure_item_account,
    ensure_opening_account,
    gl_post,
    lock_charge,
    require_estate,
    require_perm,
    snapshot,
)
from .runs import _check_period_open, _compute_units, _insert_units, plan_estate


def _money_in(value, field: str = "amount") -> Decimal:
    """A positive amount with at most 2 places, or a DomainError naming the field."""
    if isinstance(value, float):
        raise DomainError(_("money is never a float"), field=field)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(
            _("%(value)s is not an amount") % {"value": repr(value)}, field=field
        ) from exc
    if not amount.is_finite() or amount <= 0:
        raise DomainError(_("the amount must be more than 0"), field=field)
    if amount != amount.quantize(FEN):
        raise DomainError(_("an amount has at most 2 decimal places (fen)"), field=field)
    return amount.quantize(FEN)


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# --- the cached outstanding balance -------------------------------------------------


def charge_outstanding_recompute(charge: Charge) -> Decimal:
    """What is still owed on `charge`, derived from its sources: the amount, less approved
    waivers, credit notes and what the payments app has settled; 0 once cancelled. The cached
    `Charge.outstanding` must always equal this (tests compare them)."""
    if charge.status == Charge.Status.CANCELLED:
        return ZERO
    waived = Waiver.objects.filter(charge=charge, status=Waiver.Status.APPROVED).aggregate(
        s=MoneySum("amount")
    )["s"]
    credited = CreditNote.objects.filter(charge=charge).aggregate(s=MoneySum("amount"))["s"]
    settled = settlements.settled([charge.pk]).get(charge.pk, ZERO)
    return (charge.amount - waived - credited - settled).quantize(FEN)


def _status_for(charge: Charge, outstanding: Decimal) -> str:
    if charge.status == Charge.Status.CANCELLED:
        return charge.status
    if outstanding > 0:
        return Charge.Status.OPEN
    settled = settlements.settled([charge.pk]).get(charge.pk, ZERO)
    return Charge.Status.PAID if settled > 0 else Charge.Status.WAIVED


@transaction.atomic
def charge_refresh(*, charge: Charge) -> Charge:
    """Recompute `outstanding` and `status` from the sources, with the charge locked. The
    payments app calls this after it records or reverses an allocation."""
    charge = lock_charge(charge)
    value = charge_outstanding_recompute(charge)
    if value < 0:
        raise DomainError(
            _("charge %(charge)s would be overpaid by %(amount)s")
            % {"charge": charge.pk, "amount": -value},
            field="amount",
        )
    status = _status_for(charge, value)
    if (value, status) != (charge.outstanding, charge.status):
        charge.outstanding, charge.status = value, status
        charge.save(update_fields=["outstanding", "status"])
    receivables_changed(charge_ids=[charge.pk])
    return charge


# --- ad hoc charges and deposits ----------------------------------------------------


@transaction.atomic
def charge_adhoc_create(
    *,
    actor,
    unit: Unit,
    fee_item: FeeItem,
    amount,
    description: str,
    bill_date: date | None = None,
    due_date: date | None = None,
    party: Party | None = None,
    idempotency_key: str | None = None,
) -> Charge:
    """A one-off charge (repair, access card, pass-through, deposit) to the unit's payer.

    Deposits (item treatment `deposit`) are kind `deposit` and credit DEPOSITS; pass-through
    items credit PASS_THROUGH; others credit the item's revenue. Retrying with the same
    `idempotency_key` returns the charge already raised."""
    require_perm(actor, "billing.add_adhoc_charge")
    require_estate(actor, unit.estate_id)
    if idempotency_key:
        existing = Charge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if fee_item.estate_id != unit.estate_id:
        raise DomainError(_("the fee item belongs to another estate"), field="fee_item")
    amount = _money_in(amount)
    description = (description or "").strip()
    if not description:
        raise DomainError(_("say what the charge is for"), field="description")
    bill_date = bill_date or timezone.localdate()
    due_date = due_date or bill_date
    if due_date < bill_date:
        raise DomainError(_("the due date is before the bill date"), field="due_date")
    party = party or payer_on(unit, bill_date)
    if party is None:
        raise DomainError(
            _("%(unit)s has no owner or payer on %(date)s") % {"unit": unit, "date": bill_date},
            field="party",
        )
    if party.estate_id != unit.estate_id:
        raise DomainError(_("the party belongs to another estate"), field="party")
    kind = (
        Charge.Kind.DEPOSIT
        if fee_item.treatment == FeeItem.Treatment.DEPOSIT
        else Charge.Kind.ADHOC
    )
    charge = Charge(
        estate_id=unit.estate_id,
        unit=unit,
        party=party,
        fee_item=fee_item,
        kind=kind,
        period=str(Period.of(bill_date)),
        period_start=bill_date,
        period_end=bill_date,
        amount=amount,
        outstanding=amount,
        bill_date=bill_date,
        due_date=due_date,
        description=description[:200],
        idempotency_key=idempotency_key or None,
        created_by=_user(actor),
    )
    try:
        with transaction.atomic():
            charge.save()
    except IntegrityError:
        if idempotency_key:
            return Charge.objects.get(idempotency_key=idempotency_key)
        raise
    _post_charge(charge, actor)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=charge, after=snapshot(charge)
    )
    return charge


def charge_income_account(charge: Charge) -> str:
    """Where a charge's money ends up: a late fee in late-fee income, an opening balance in
    the opening-balances account, a debit note in its original's, anything else in its
    item's (revenue, deposits, pass-through)."""
    if charge.kind == Charge.Kind.DEBIT_NOTE and charge.source_id:
        return charge_income_account(
            Charge.objects.select_related("fee_item").get(pk=charge.source_id)
        )
    if charge.kind == Charge.Kind.LATE_FEE:
        return chart.LATE_FEE_INCOME
    if charge.kind == Charge.Kind.OPENING:
        return ensure_opening_account()
    return ensure_item_account(charge.fee_item)


def charge_account(charge: Charge) -> str:
    """The GL account a charge's amount sits in now: the contract liability (合同负债) while
    it is an advance receipt not yet recognised (`revenue.is_deferred`), else
    `charge_income_account`. A charge is credited to it when raised, and a credit or debit
    note posts back to it, never to property revenue by default."""
    account = charge_income_account(charge)
    if charge.recognition_id is None and revenue.is_deferred(charge):
        return chart.CONTRACT_LIABILITY
    return account


def _post_charge(charge: Charge, actor, *, source_type: str = "charge") -> None:
    """Dr RECEIVABLE, Cr the charge's account (`charge_account`); records the entry on it."""
    entry = gl_post(
        estate_id=charge.estate_id,
        day=charge.bill_date,
        memo=f"{charge.label} {charge.unit.number}"[:200],
        debit=chart.RECEIVABLE,
        credit=charge_account(charge),
        amount=charge.amount,
        key=f"billing-charge:{charge.pk}",
        source_type=source_type,
        source_id=charge.pk,
        actor=actor,
        party_id=charge.party_id,
    )
    Charge.objects.filter(pk=charge.pk).update(entry_id=entry.pk)
    charge.entry_id = entry.pk
    receivables_changed(charge_ids=[charge.pk])


# --- one unit's regular charge of one period ---------------------------------------


def _regular_charges(unit: Unit, fee_item: FeeItem, period: Period) -> list[Charge]:
    return list(
        Charge.objects.filter(
            unit=unit, fee_item=fee_item, period=str(period), kind=Charge.Kind.REGULAR
        )
        .exclude(status=Charge.Status.CANCELLED)
        .order_by("part")
    )


def _period_rows(unit: Unit, fee_item: FeeItem, p: Period, today: date):
    """What a bill run would charge the unit for `fee_item` in the cycle starting in `p`:
    (plan, standard, rows), or the DomainError that says why it charges nothing."""
    if not unit.is_active:
        raise DomainError(_("%(unit)s is not active") % {"unit": unit}, field="unit")
    _check_period_open(unit.estate, p)
    plan = next((x for x in plan_estate(unit.estate, p, today) if x.item.pk == fee_item.pk), None)
    if plan is None:
        raise DomainError(
            _("%(item)s is not a recurring fee billed in %(period)s (every %(months)s month(s))")
            % {"item": fee_item.name, "period": p, "months": fee_item.months},
            field="period",
        )
    std = next((s for s, types in plan.groups.values() if unit.unit_type in types), None)
    if std is None:
        raise DomainError(
            plan.no_standard.get(unit.unit_type)
            or _("no standard of %(item)s in force") % {"item": fee_item.name},
            field="fee_standard",
        )
    skips: dict[str, list[str]] = defaultdict(list)
    rows = _compute_units(plan, std, [unit.pk], skips)
    if not rows and not _regular_charges(unit, fee_item, p):
        why = f": {next(iter(skips))}" if skips else ""
        raise DomainError(
            _("%(unit)s pays no %(item)s in %(period)s%(why)s")
            % {"unit": unit, "item": fee_item.name, "period": p, "why": why},
            field="period",
        )
    return plan, std, rows


def charge_period_quote(*, unit: Unit, fee_item: FeeItem, period: Period | str, today: date):
    """What `charge_period_create` would charge (or has charged) the unit for the cycle
    starting in `period`, writing nothing: the window's "how many months does this amount
    pay" asks it, so its answer is the run's own price (vacancy, fee start, paid-up-to and
    fee stops included). Raises the DomainError `charge_period_create` would."""
    p = period if isinstance(period, Period) else Period.parse(period)
    if existing := _regular_charges(unit, fee_item, p):
        return sum((c.amount for c in existing), ZERO)
    __, __, rows = _period_rows(unit, fee_item, p, today)
    return sum((r.amount for r in rows), ZERO)


@transaction.atomic
def charge_period_create(
    *, actor, unit: Unit, fee_item: FeeItem, period: Period | str, today: date
) -> list[Charge]:
    """The unit's regular charge(s) of `fee_item` for the billing cycle starting in `period`,
    ahead of the bill run (paying ahead at the window).

    Priced and split exactly as a bill run would (its plan, its standard in force on the
    cycle's first day, its per-unit calculation: fee start, payer changes by days, vacancy,
    paid-up-to, fee stop), owed by who pays the unit in that period, in the same UNIQUE slot
    (unit, item, period, part) -- so a later run adds nothing for the unit and item, and a
    charge already raised (by a run or earlier) is returned as is. Raised `today`: bill date
    today, due on the run's due date or today if that has passed. Each new charge is posted
    Dr RECEIVABLE, Cr the item's account, so the ledger equals the subledger. One charge per
    payer part, usually one. Whether the caller may raise it is the caller's check."""
    require_estate(actor, unit.estate_id)
    if fee_item.estate_id != unit.estate_id:
        raise DomainError(_("the fee item belongs to another estate"), field="fee_item")
    p = period if isinstance(period, Period) else Period.parse(period)
    # Lock order: unit -> charge. Two requests for the same unit wait for each other.
    unit = Unit.objects.select_for_update().select_related("estate").get(pk=unit.pk)
    if existing := _regular_charges(unit, fee_item, p):
        return existing
    plan, std, rows = _period_rows(unit, fee_item, p, today)
    if not rows:
        return _regular_charges(unit, fee_item, p)  # a bill run got there first
    plan = replace(plan, bill_date=today, due_date=max(today, plan.due_date))
    _insert_units(None, plan, std, rows)
    charges = _regular_charges(unit, fee_item, p)
    new = [c for c in charges if c.run_id is None and c.entry_id is None]
    if new:
        Charge.objects.filter(pk__in=[c.pk for c in new]).update(created_by=_user(actor))
    for charge in new:
        charge.created_by = _user(actor)
        _post_charge(charge, actor)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            subject=charge,
            after=snapshot(charge),
            summary=Summary(
                gettext_noop("%(period)s %(item)s ahead of the bill run"),
                period=p,
                item=fee_item.name,
            ),
        )
    return charges


# --- waivers ------------------------------------------------------------


@transaction.atomic
def waiver_request(*, actor, charge: Charge, amount, reason: str) -> Waiver:
    """Ask to waive part or all of an open charge; a supervisor decides."""
    require_perm(actor, "billing.add_waiver")
    require_estate(actor, charge.estate_id)
    charge = lock_charge(charge)
    amount = _money_in(amount)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("say why the charge should be waived"), field="reason")
    if charge.status != Charge.Status.OPEN:
        raise DomainError(
            _("the charge is %(status)s") % {"status": charge.get_status_display().lower()},
            field="charge",
        )
    pending = Waiver.objects.filter(charge=charge, status=Waiver.Status.REQUESTED).aggregate(
        s=MoneySum("amount")
    )["s"]
    if amount + pending > charge.outstanding:
        raise DomainError(
            _("at most %(amount)s can still be waived") % {"amount": charge.outstanding - pending},
            field="amount",
        )
    waiver = Waiver.objects.create(
        estate_id=charge.estate_id,
        charge=charge,
        amount=amount,
        reason=reason[:255],
        requested_by=_user(actor),
    )
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=waiver, after=snapshot(waiver)
    )
    return waiver


def _decide(actor, waiver: Waiver) -> Waiver:
    require_perm(actor, "billing.approve_waiver")
    require_estate(actor, waiver.estate_id)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.status != Waiver.Status.REQUESTED:
        raise DomainError(
            _("the waiver is already %(status)s") % {"status": waiver.get_status_display().lower()}
        )
    if waiver.requested_by_id and waiver.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("a waiver is decided by someone other than who asked for it"))
    return waiver


def _post_waiver(waiver: Waiver, charge: Charge, actor, *, day: date, key: str) -> None:
    """Dr WAIVERS, Cr RECEIVABLE for an approved waiver; records the entry on it."""
    entry = gl_post(
        estate_id=charge.estate_id,
        day=day,
        memo=f"减免 {charge.label} {waiver.reason}"[:200],
        debit=chart.WAIVERS,
        credit=chart.RECEIVABLE,
        amount=waiver.amount,
        key=key,
        source_type="waiver",
        source_id=waiver.pk,
        actor=actor,
        party_id=charge.party_id,
    )
    Waiver.objects.filter(pk=waiver.pk).update(entry_id=entry.pk)
    waiver.entry_id = entry.pk


@transaction.atomic
def waiver_approve(*, actor, waiver: Waiver, note: str = "") -> Waiver:
    """Approve a waiver (supervisor): lowers the charge's outstanding and posts Dr WAIVERS,
    Cr RECEIVABLE."""
    waiver = _decide(actor, waiver)
    charge = lock_charge(waiver.charge)
    if waiver.amount > charge.outstanding:
        raise DomainError(
            _("only %(amount)s is still owed on the charge") % {"amount": charge.outstanding},
            field="amount",
        )
    waiver.status = Waiver.Status.APPROVED
    waiver.decided_by = _user(actor)
    waiver.decided_at = timezone.now()
    waiver.decision_note = (note or "").strip()[:255]
    _post_waiver(waiver, charge, actor, day=timezone.localdate(), key=f"billing-waiver:{waiver.pk}")
    waiver.save()
    charge_refresh(charge=charge)
    audit_record(
        actor=actor, action=AuditEvent.Action.APPROVE, subject=waiver, after=snapshot(waiver)
    )
    return waiver


# Estate policies that waive without a second person: small change dropped at the window
# (抹零) and prepayment offers (预交优惠). Anything else goes through request and approval.
WAIVER_POLICIES = ("small_change", "prepayment_offer")


@transaction.atomic
def waiver_grant(
    *,
    actor,
    charge: Charge,
    amount,
    reason: str,
    idempotency_key: str,
    day: date,
    policy: str,
) -> Waiver:
    """A waiver granted by a named estate `policy` (one of `WAIVER_POLICIES`) rather than by a
    supervisor: recorded as approved, the policy as the decision note, posted Dr WAIVERS, Cr
    RECEIVABLE on `day` like an approved waiver, the charge refreshed. At most the charge's
    outstanding. The same `idempotency_key` again returns the waiver already granted (its
    journal entry's UNIQUE key is the guarantee). Whether the policy applies is the caller's
    decision (e.g. the cashier window, with its own permission)."""
    require_estate(actor, charge.estate_id)
    if policy not in WAIVER_POLICIES:
        raise DomainError(
            _("%(policy)s is not a waiver policy (%(policies)s); ask for approval instead")
            % {"policy": repr(policy), "policies": ", ".join(WAIVER_POLICIES)},
            field="policy",
        )
    key = (idempotency_key or "").strip()
    if not key:
        raise DomainError(_("a granted waiver needs an idempotency key"), field="idempotency_key")
    ledger_key = f"billing-waiver-grant:{key}"
    if len(ledger_key) > 128:
        raise DomainError(
            _("the idempotency key is too long (100 characters at most)"), field="key"
        )
    amount = _money_in(amount)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("say why the charge is waived"), field="reason")
    charge = lock_charge(charge)
    found = (
        JournalEntry.objects.filter(idempotency_key=ledger_key)
        .values_list("source_id", flat=True)
        .first()
    )
    if found is not None:
        waiver = Waiver.objects.get(pk=int(found))
        if (waiver.charge_id, waiver.amount) != (charge.pk, amount):
            raise DomainError(
                _("this key already granted %(amount)s on charge %(charge)s")
                % {"amount": waiver.amount, "charge": waiver.charge_id},
                field="idempotency_key",
                code="conflict",
            )
        return waiver
    if charge.status != Charge.Status.OPEN:
        raise DomainError(
            _("the charge is %(status)s") % {"status": charge.get_status_display().lower()},
            field="charge",
        )
    if amount > charge.outstanding:
        raise DomainError(
            _("only %(amount)s is still owed on the charge") % {"amount": charge.outstanding},
            field="amount",
        )
    waiver = Waiver.objects.create(
        estate_id=charge.estate_id,
        charge=charge,
        amount=amount,
        reason=reason[:255],
        status=Waiver.Status.APPROVED,
        requested_by=_user(actor),
        decided_by=_user(actor),
        decided_at=timezone.now(),
        decision_note=f"estate policy: {policy}",
    )
    _post_waiver(waiver, charge, actor, day=day, key=ledger_key)
    charge_refresh(charge=charge)
    audit_record(
        actor=actor, action=AuditEvent.Action.APPROVE, subject=waiver, after=snapshot(waiver)
    )
    return waiver


@transaction.atomic
def waiver_reverse(*, actor, waiver: Waiver, reason: str, day: date) -> Waiver:
    """Undo an approved waiver whose cause is undone (the voided payment that granted a
    抹零 or an offer): its entry reversed (Dr RECEIVABLE, Cr WAIVERS) on `day`, the waiver
    marked reversed, the charge owed again. The caller holds the charge's lock (lock order)
    and has checked that it may undo it."""
    require_estate(actor, waiver.estate_id)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.status != Waiver.Status.APPROVED:
        raise DomainError(
            _("the waiver is already %(status)s") % {"status": waiver.get_status_display().lower()},
            field="waiver",
        )
    charge = lock_charge(waiver.charge)
    if waiver.entry_id:
        entry_reverse(
            entry=JournalEntry.objects.get(pk=waiver.entry_id),
            date=day,
            memo=f"冲销减免 {charge.label} {reason}"[:200],
            actor=actor,
            idempotency_key=f"billing-waiver-reverse:{waiver.pk}",
        )
    before = snapshot(waiver)
    waiver.status = Waiver.Status.REVERSED
    waiver.save(update_fields=["status"])
    charge_refresh(charge=charge)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=waiver,
        before=before,
        after=snapshot(waiver),
        summary=f"reversed: {reason}"[:200],
    )
    return waiver


@transaction.atomic
def charge_withdraw(*, actor, charge: Charge, reason: str, day: date) -> Charge:
    """Withdraw a charge raised ahead of its bill run (paying ahead at the window) whose
    payment was voided: cancelled, its entry reversed on `day`. Refused once anything is
    settled or waived on it, or when a bill run raised it."""
    require_estate(actor, charge.estate_id)
    charge = lock_charge(charge)
    if charge.run_id is not None or charge.kind != Charge.Kind.REGULAR:
        raise DomainError(
            _("%(charge)s was raised by a bill run; it is not withdrawn")
            % {"charge": charge.label},
            field="charge",
        )
    if charge.status == Charge.Status.CANCELLED:
        return charge
    if charge.outstanding != charge.amount:
        raise DomainError(
            _("%(charge)s has payments or waivers on it; it is not withdrawn")
            % {"charge": charge.label},
            field="charge",
            code="settled",
        )
    revenue.revenue_unrecognise(
        charges=[charge],
        day=max(day, charge.bill_date),
        actor=actor,
        key=f"billing-charge-withdraw-unrecognise:{charge.pk}",
    )
    if charge.entry_id:
        entry_reverse(
            entry=JournalEntry.objects.get(pk=charge.entry_id),
            date=max(day, charge.bill_date),
            memo=f"撤销预交应收 {charge.label} {reason}"[:200],
            actor=actor,
            idempotency_key=f"billing-charge-withdraw:{charge.pk}",
        )
    before = snapshot(charge)
    charge.status = Charge.Status.CANCELLED
    charge.outstanding = ZERO
    charge.save(update_fields=["status", "outstanding"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=charge,
        before=before,
        after=snapshot(charge),
        summary=f"withdrawn: {reason}"[:200],
    )
    return charge


@transaction.atomic
def waiver_reject(*, actor, waiver: Waiver, note: str) -> Waiver:
    waiver = _decide(actor, waiver)
    if not (note or "").strip():
        raise DomainError(_("say why the waiver is rejected"), field="note")
    waiver.status = Waiver.Status.REJECTED
    waiver.decided_by = _user(actor)
    waiver.decided_at = timezone.now()
    waiver.decision_note = note.strip()[:255]
    waiver.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.UPDATE, subject=waiver, after=snapshot(waiver)
    )
    return waiver


# --- credit and debit notes ---------------------------------------------------------


@transaction.atomic
def charge_credit_note(
    *, actor, charge: Charge, amount, reason: str, idempotency_key: str
) -> CreditNote:
    """Lower a charge that was raised too high: Dr the account it was raised to
    (`charge_account`), Cr RECEIVABLE."""
    require_perm(actor, "billing.add_creditnote")
    require_estate(actor, charge.estate_id)
    existing = CreditNote.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    charge = lock_charge(charge)
    amount = _money_in(amount)
    if not (reason or "").strip():
        raise DomainError(_("say why the charge is corrected"), field="reason")
    if amount > charge.outstanding:
        raise DomainError(
            _("only %(amount)s is still owed") % {"amount": charge.outstanding}, field="amount"
        )
    note = CreditNote.objects.create(
        estate_id=charge.estate_id,
        charge=charge,
        amount=amount,
        reason=reason.strip()[:255],
        created_by=_user(actor),
        idempotency_key=idempotency_key,
    )
    entry = gl_post(
        estate_id=charge.estate_id,
        day=timezone.localdate(),
        memo=f"红字冲减 {charge.label}"[:200],
        debit=charge_account(charge),
        credit=chart.RECEIVABLE,
        amount=amount,
        key=f"billing-credit:{note.pk}",
        source_type="credit_note",
        source_id=note.pk,
        actor=actor,
        party_id=charge.party_id,
    )
    CreditNote.objects.filter(pk=note.pk).update(entry_id=entry.pk)
    charge_refresh(charge=charge)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=note, after=snapshot(note))
    return note


@transaction.atomic
def charge_debit_note(
    *, actor, charge: Charge, amount, reason: str, idempotency_key: str
) -> Charge:
    """Raise more on a charge that was too low: a new charge of kind `debit_note` pointing at
    the original, to the same party and period."""
    require_perm(actor, "billing.add_creditnote")
    require_estate(actor, charge.estate_id)
    existing = Charge.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    amount = _money_in(amount)
    if not (reason or "").strip():
        raise DomainError(_("say why the charge is corrected"), field="reason")
    today = timezone.localdate()
    note = Charge.objects.create(
        estate_id=charge.estate_id,
        unit_id=charge.unit_id,
        party_id=charge.party_id,
        fee_item_id=charge.fee_item_id,
        kind=Charge.Kind.DEBIT_NOTE,
        period=charge.period,
        period_start=charge.period_start,
        period_end=charge.period_end,
        amount=amount,
        outstanding=amount,
        bill_date=today,
        due_date=max(today, charge.due_date),
        source=charge,
        description=f"补收 {charge.label}: {reason.strip()}"[:200],
        idempotency_key=idempotency_key,
        created_by=_user(actor),
    )
    _post_charge(note, actor, source_type="debit_note")
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=note, after=snapshot(note))
    return note


# --- a change of owner ----------------------------------------------------------------


def owner_change_shares(charge: Charge, from_day: date) -> tuple[Decimal, Decimal]:
    """(the seller's, the buyer's) part of `charge` when the unit changes payer on
    `from_day`: its amount split by the days of its period before and from that day (largest
    remainder, `core.money.split`, as a bill run splits a transfer month)."""
    start, end = charge.period_start, charge.period_end
    seller_days = max(0, (min(end, from_day - timedelta(days=1)) - start).days + 1)
    buyer_days = max(0, (end - max(start, from_day)).days + 1)
    if buyer_days == 0:
        return charge.amount, ZERO
    seller, buyer = split(charge.amount, [Decimal(seller_days), Decimal(buyer_days)])
    return seller, buyer


def charge_owner_change_split(
    *, actor, charge: Charge, buyer: Party, from_day: date, today: date, key: str
) -> Charge | None:
    """Give the days of `charge` from `from_day` on to `buyer` (issue 11 §9): a credit note
    lowers the seller's charge by the buyer's share (`owner_change_shares`), posted back to
    the account the charge sits in (revenue, or the contract liability while it is an advance
    receipt), and a new regular charge of that share is raised to the buyer for the same
    period (next part), from `from_day`, posted like any charge raised `today`.

    The caller (payments, on a change of owner) holds the charge's lock and has first taken
    off it what the seller had paid for the buyer's days (to the seller's prepayment). Only
    what is still owed is credited: a waiver or credit note the seller had stays his, and the
    buyer owes his days in full. None when no day of the charge is the buyer's. `key` makes
    it idempotent."""
    __, share = owner_change_shares(charge, from_day)
    if share <= 0 or charge.party_id == buyer.pk:
        return None
    made = Charge.objects.filter(idempotency_key=f"{key}:buyer").first()
    if made is not None:
        return made
    charge = lock_charge(charge)
    credit = min(share, charge.outstanding)
    memo = f"过户 {from_day} 起归新业主 {charge.label}"[:200]
    if credit > 0:
        note = CreditNote.objects.create(
            estate_id=charge.estate_id,
            charge=charge,
            amount=credit,
            reason=f"过户：{from_day} 起由 {buyer.name} 缴纳"[:255],
            created_by=_user(actor),
            idempotency_key=f"{key}:seller",
        )
        entry = gl_post(
            estate_id=charge.estate_id,
            day=today,
            memo=memo,
            debit=charge_account(charge),
            credit=chart.RECEIVABLE,
            amount=credit,
            key=f"billing-credit:{note.pk}",
            source_type="credit_note",
            source_id=note.pk,
            actor=actor,
            party_id=charge.party_id,
        )
        CreditNote.objects.filter(pk=note.pk).update(entry_id=entry.pk)
        charge_refresh(charge=charge)
    part = (
        Charge.objects.filter(
            unit_id=charge.unit_id,
            fee_item_id=charge.fee_item_id,
            period=charge.period,
            kind=Charge.Kind.REGULAR,
        ).aggregate(m=Max("part"))["m"]
        or 0
    ) + 1
    new = Charge.objects.create(
        estate_id=charge.estate_id,
        unit_id=charge.unit_id,
        party=buyer,
        fee_item_id=charge.fee_item_id,
        kind=Charge.Kind.REGULAR,
        period=charge.period,
        period_start=max(charge.period_start, from_day),
        period_end=charge.period_end,
        part=part,
        amount=share,
        outstanding=share,
        quantity=charge.quantity,
        rate=charge.rate,
        bill_date=today,
        due_date=max(today, charge.due_date),
        idempotency_key=f"{key}:buyer",
        created_by=_user(actor),
    )
    new.fee_item = charge.fee_item
    _post_charge(new, actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=new,
        after=snapshot(new),
        summary=Summary(
            gettext_noop("change of owner: %(charge)s from %(day)s is the new payer's"),
            charge=charge.label,
            day=from_day,
        ),
    )
    return new


# --- deposits ------------------------------------------------------------


def _held(charge: Charge) -> Decimal:
    """How much of a deposit is held: what was paid, less what was already released."""
    paid = settlements.settled([charge.pk]).get(charge.pk, ZERO)
    released = DepositRelease.objects.filter(
        charge=charge, status=DepositRelease.Status.APPROVED
    ).aggregate(s=MoneySum("amount"))["s"]
    return paid - released


@transaction.atomic
def deposit_release_request(
    *, actor, charge: Charge, action: str, amount, reason: str
) -> DepositRelease:
    """Ask to refund or forfeit (part of) a paid deposit; a supervisor decides."""
    require_perm(actor, "billing.add_depositrelease")
    require_estate(actor, charge.estate_id)
    charge = lock_charge(charge)
    if charge.kind != Charge.Kind.DEPOSIT:
        raise DomainError(_("only a deposit can be refunded or forfeited"), field="charge")
    if action not in DepositRelease.Action.values:
        raise DomainError(_("unknown action %(action)s") % {"action": repr(action)}, field="action")
    amount = _money_in(amount)
    if not (reason or "").strip():
        raise DomainError(_("say why"), field="reason")
    pending = DepositRelease.objects.filter(
        charge=charge, status=DepositRelease.Status.REQUESTED
    ).aggregate(s=MoneySum("amount"))["s"]
    if amount + pending > _held(charge):
        raise DomainError(
            _("only %(amount)s of this deposit is held (paid and not released)")
            % {"amount": _held(charge) - pending},
            field="amount",
        )
    release = DepositRelease.objects.create(
        estate_id=charge.estate_id,
        charge=charge,
        action=action,
        amount=amount,
        reason=reason.strip()[:255],
        requested_by=_user(actor),
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=release)
    return release


@transaction.atomic
def deposit_release_approve(*, actor, release: DepositRelease) -> DepositRelease:
    """Approve a refund (Dr DEPOSITS, Cr REFUNDS_PAYABLE) or a forfeit (Dr DEPOSITS, Cr the
    item's revenue) of a deposit (supervisor)."""
    require_perm(actor, "billing.approve_depositrelease")
    require_estate(actor, release.estate_id)
    release = DepositRelease.objects.select_for_update().get(pk=release.pk)
    if release.status != DepositRelease.Status.REQUESTED:
        raise DomainError(
            _("already %(status)s") % {"status": release.get_status_display().lower()}
        )
    if release.requested_by_id and release.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("a release is decided by someone other than who asked for it"))
    charge = lock_charge(release.charge)
    if release.amount > _held(charge):
        raise DomainError(
            _("only %(amount)s of this deposit is held") % {"amount": _held(charge)},
            field="amount",
        )
    if release.action == DepositRelease.Action.REFUND:
        credit = chart.REFUNDS_PAYABLE
    else:
        credit = chart.revenue_account(charge.fee_item.code)
        from wuye.ledger.services import account_ensure

        account_ensure(code=credit, name=f"主营业务收入-{charge.fee_item.name}", kind="income")
    entry = gl_post(
        estate_id=charge.estate_id,
        day=timezone.localdate(),
        memo=f"押金{'退还' if release.action == 'refund' else '没收'} {charge.label}"[:200],
        debit=chart.DEPOSITS,
        credit=credit,
        amount=release.amount,
        key=f"billing-deposit:{release.pk}",
        source_type="deposit_release",
        source_id=release.pk,
        actor=actor,
        party_id=charge.party_id,
    )
    release.status = DepositRelease.Status.APPROVED
    release.decided_by = _user(actor)
    release.decided_at = timezone.now()
    release.entry_id = entry.pk
    release.save()
    audit_record(actor=actor, action=AuditEvent.Action.APPROVE, subject=release)
    return release


@transaction.atomic
def deposit_release_reject(*, actor, release: DepositRelease) -> DepositRelease:
    require_perm(actor, "billing.approve_depositrelease")
    require_estate(actor, release.estate_id)
    release = DepositRelease.objects.select_for_update().get(pk=release.pk)
    if release.status != DepositRelease.Status.REQUESTED:
        raise DomainError(
            _("already %(status)s") % {"status": release.get_status_display().lower()}
        )
    release.status = DepositRelease.Status.REJECTED
    release.decided_by = _user(actor)
    release.decided_at = timezone.now()
    release.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=release)
    return release


def deposit_refund(*, requested_by, approved_by, charge: Charge, amount, reason: str):
    """Request and approve a refund in one go (two people)."""
    release = deposit_release_request(
        actor=requested_by, charge=charge, action="refund", amount=amount, reason=reason
    )
    return deposit_release_approve(actor=approved_by, release=release)


def deposit_forfeit(*, requested_by, approved_by, charge: Charge, amount, reason: str):
    """Request and approve a forfeit in one go (two people): the deposit becomes revenue."""
    release = deposit_release_request(
        actor=requested_by, charge=charge, action="forfeit", amount=amount, reason=reason
    )
    return deposit_release_approve(actor=approved_by, release=release)
