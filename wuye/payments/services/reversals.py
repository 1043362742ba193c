"""Voids (作廢) and refunds (退款): requested with a reason, approved by a supervisor, posted
as a mirror through the ledger. A payment is never edited; its money fields never change.

A void reverses the whole payment's journal entry, writes negative allocations (the charges
reopen) and takes back its prepayment top-up; the receipt keeps its number and is marked void.
A refund gives back part: prepayment money (Dr PREPAYMENTS) and/or what the payment paid on
charges (Dr RECEIVABLE, the charges reopen), Cr the channel's account. Both are dated the day
they are approved; if the original's business day is signed off, that is a later day and the
reversal references the original payment.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, snapshot
from wuye.audit.summaries import Summary
from wuye.billing.events import receivables_changed
from wuye.billing.models import Charge, DepositRelease, PrepaymentMovement, Waiver
from wuye.billing.outstanding import settled
from wuye.billing.services import charge_refresh, charge_withdraw, waiver_reverse
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import ZERO, MoneySum
from wuye.ledger import chart
from wuye.ledger.models import JournalEntry
from wuye.ledger.services import Line, entry_post, entry_reverse
from wuye.registry.services import require_estate, require_perm

from ..models import (
    Allocation,
    InvoiceRequest,
    Payment,
    PaymentEffect,
    PaymentReversal,
    Receipt,
)
from ._common import CHANNEL_ACCOUNTS, business_today, money_in, require_day_open, user_or_none
from .locks import lock_charges, lock_party, lock_payment, lock_shift, lock_units
from .owner_change import moved_to_prepayment
from .payments import prepayment_balance
from .shifts import open_shift_of


def _undo_effects(actor, granted: list, ahead: list[Charge], day, reason: str) -> None:
    """What the voided payment caused besides its allocations (issue 11 §3): the 抹零 and
    offer waivers it granted are reversed; the charges it raised ahead of their bill run are
    withdrawn while their period is still to come (a period already begun stays owed, as
    its bill run would have raised it). Anything else on such a charge (another payment, a
    credit note) refuses the void, with the reason."""
    for waiver in granted:
        if waiver.status == Waiver.Status.APPROVED:
            waiver_reverse(actor=actor, waiver=waiver, reason=f"作废收款 {reason}", day=day)
    for charge in ahead:
        if charge.period_start <= day or charge.status == Charge.Status.CANCELLED:
            continue
        try:
            charge_withdraw(actor=actor, charge=charge, reason=f"作废收款 {reason}", day=day)
        except DomainError as exc:
            raise DomainError(
                _(
                    "the void cannot withdraw %(charge)s that this payment raised ahead: "
                    "%(why)s. Reverse that first."
                )
                % {"charge": charge.label, "why": exc.message},
                field="payment",
                code="effects",
            ) from exc


def _check_deposits_held(locked: dict[int, Charge], charges: dict[int, Decimal]) -> None:
    """A payment of a deposit is not reversed beyond what is still held of it: a deposit
    already refunded or forfeited (approved releases) is not paid back a second time."""
    deposits = [cid for cid in charges if locked[cid].kind == Charge.Kind.DEPOSIT]
    if not deposits:
        return
    paid = settled(deposits)
    released = dict(
        DepositRelease.objects.filter(charge_id__in=deposits, status=DepositRelease.Status.APPROVED)
        .order_by()
        .values("charge_id")
        .annotate(s=MoneySum("amount"))
        .values_list("charge_id", "s")
    )
    for cid in deposits:
        held = paid.get(cid, ZERO) - released.get(cid, ZERO)
        if charges[cid] > held:
            raise DomainError(
                _(
                    "only %(amount)s of the deposit %(charge)s is still held; the rest was "
                    "refunded or forfeited"
                )
                % {"amount": max(held, ZERO), "charge": locked[cid].label},
                field="charges",
                code="deposit_released",
            )


def require_no_live_invoice(payment: Payment) -> None:
    """A payment with an issued tax invoice is voided only after the invoice's red-letter
    note (红字发票) is recorded (issue 11 §22): say which invoice and what to do."""
    issued = payment.invoice_requests.filter(status=InvoiceRequest.Status.ISSUED).first()
    if issued is not None:
        raise DomainError(
            _(
                "invoice %(number)s was issued for this payment: record its red-letter note "
                "(红字发票) first, then void the payment"
            )
            % {"number": issued.invoice_number or issued.pk},
            field="payment",
            code="invoice_issued",
        )


def _live_allocations(payment: Payment) -> dict[int, Decimal]:
    """{charge id: what the payment still has on it} (originals less their reversals)."""
    totals: dict[int, Decimal] = {}
    for charge_id, amount in payment.allocations.values_list("charge_id", "amount"):
        totals[charge_id] = totals.get(charge_id, ZERO) + amount
    return {cid: amt for cid, amt in totals.items() if amt > 0}


def _prepaid_left(payment: Payment) -> Decimal:
    """What is left of the payment's prepayment top-up after earlier refunds: what it put
    in the prepayment, plus what a change of owner moved there off its charges
    (`owner_change`), less what was refunded from it."""
    refunded = PaymentReversal.objects.filter(
        payment=payment, status=PaymentReversal.Status.APPROVED
    ).aggregate(s=MoneySum("from_prepayment"))["s"]
    return payment.prepaid + moved_to_prepayment(payment) - refunded


def _refuse_void_of_moved(payment: Payment) -> None:
    """A payment part of which a change of owner moved to its payer's prepayment is refunded,
    not voided whole (its entry would be reversed with money that is now prepayment)."""
    if moved_to_prepayment(payment) > 0:
        raise DomainError(
            _(
                "part of the payment was moved to the payer's prepayment at a change of "
                "owner; refund it instead"
            ),
            field="kind",
            code="owner_change",
        )


@transaction.atomic
def reversal_request(
    *,
    actor,
    payment: Payment,
    kind: str,
    reason: str,
    amount=None,
    from_prepayment="0",
    charges: dict[int, str] | None = None,
    refund_channel: str = "",
) -> PaymentReversal:
    """Ask to void a payment (whole) or refund part of it; a supervisor decides."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, payment.estate_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("say why"), field="reason")
    if payment.is_voided:
        raise DomainError(_("the payment is already void"), field="payment")
    if payment.channel == Payment.Channel.PREPAYMENT:
        raise DomainError(_("a use of prepayment is not voided or refunded"), field="payment")
    if kind == PaymentReversal.Kind.VOID:
        require_no_live_invoice(payment)
        if payment.reversals.filter(status=PaymentReversal.Status.APPROVED).exists():
            raise DomainError(_("part of the payment was refunded; refund the rest"), field="kind")
        _refuse_void_of_moved(payment)
        total, prepay, by_charge = payment.amount, payment.prepaid, _live_allocations(payment)
        channel = payment.channel
    elif kind == PaymentReversal.Kind.REFUND:
        prepay = money_in(from_prepayment or "0", "from_prepayment", allow_zero=True)
        by_charge = {int(k): money_in(v, "charges") for k, v in (charges or {}).items()}
        live = _live_allocations(payment)
        for cid, part in by_charge.items():
            if part > live.get(cid, ZERO):
                raise DomainError(
                    _("the payment has only %(amount)s on charge %(charge)s")
                    % {"amount": live.get(cid, ZERO), "charge": cid},
                    field="charges",
                )
        if prepay > _prepaid_left(payment):
            raise DomainError(
                _("only %(amount)s of this payment's prepayment is left")
                % {"amount": _prepaid_left(payment)},
                field="from_prepayment",
            )
        total = prepay + sum(by_charge.values(), ZERO)
        if amount is not None and money_in(amount) != total:
            raise DomainError(_("the parts add up to %(total)s") % {"total": total}, field="amount")
        if total <= 0:
            raise DomainError(_("say what to refund"), field="amount")
        channel = refund_channel or payment.channel
        if channel not in CHANNEL_ACCOUNTS or channel == Payment.Channel.PREPAYMENT:
            raise DomainError(
                _("cannot pay back by %(method)s") % {"method": repr(channel)},
                field="refund_channel",
            )
    else:
        raise DomainError(_("unknown kind %(kind)s") % {"kind": repr(kind)}, field="kind")
    reversal = PaymentReversal(
        estate_id=payment.estate_id,
        payment=payment,
        kind=kind,
        amount=total,
        from_prepayment=prepay,
        charges={str(k): str(v) for k, v in by_charge.items()},
        refund_channel=channel,
        reason=reason[:255],
        requested_by=user_or_none(actor),
    )
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError as exc:
        raise DomainError(_("a void of this payment is already requested"), field="kind") from exc
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=reversal, after=snapshot(reversal)
    )
    return reversal


@transaction.atomic
def reversal_approve(*, actor, reversal: PaymentReversal, note: str = "", today=None):
    """Approve and post a void or refund (permission `payments.approve_reversal`, someone other
    than who asked).

    What the request says is not trusted: under the locks of the one lock order (shift ->
    party -> charges -> payment, see `locks`) the approval re-reads what the payment still
    has on each charge, what is left of its prepayment top-up, the party's unused prepayment
    and what is still held of a deposit, and refuses a reversal that would give back more
    than remains. A void reverses what is left at approval, not what was left when asked."""
    require_perm(actor, "payments.approve_reversal")
    require_estate(actor, reversal.estate_id)
    reversal = PaymentReversal.objects.select_for_update().get(pk=reversal.pk)
    if reversal.status != PaymentReversal.Status.REQUESTED:
        raise DomainError(
            _("already %(status)s") % {"status": reversal.get_status_display().lower()},
            field="reversal",
        )
    if reversal.requested_by_id and reversal.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("a void or refund is approved by someone other than who asked"))
    day = business_today(today)
    require_day_open(reversal.estate_id, day)
    payment = Payment.objects.select_related("shift").get(pk=reversal.payment_id)
    # 1. shift: the cash goes back out of the box of the shift open now: the payment's, else
    # the approver's or the requester's open shift.
    shift = None
    if reversal.refund_channel in Payment.WINDOW_CHANNELS:
        if payment.shift_id and payment.shift.is_open:
            shift = payment.shift
        else:
            shift = open_shift_of(actor, payment.estate_id) or (
                open_shift_of(reversal.requested_by, payment.estate_id)
                if reversal.requested_by_id
                else None
            )
        shift = lock_shift(shift)
    # 2. party: every reversal of the party's payments and every use of its prepayment wait
    # here, so what is read below stays true until the commit.
    lock_party(payment.party_id)
    is_void = reversal.kind == PaymentReversal.Kind.VOID
    live = _live_allocations(payment)
    if is_void:
        charges = live
    else:
        charges = {int(k): money_in(v) for k, v in reversal.charges.items()}
    effects = list(payment.effects.select_related("waiver")) if is_void else []
    ahead = [e.charge_id for e in effects if e.kind == PaymentEffect.Kind.AHEAD]
    granted = [e.waiver for e in effects if e.waiver_id]
    # 3. units (of charges raised ahead, withdrawn below), 4. charges, 5. payment
    if ahead:
        lock_units(Charge.objects.filter(pk__in=ahead).values_list("unit_id", flat=True))
    locked = lock_charges([*charges, *ahead, *(w.charge_id for w in granted)])
    payment = lock_payment(payment.pk)
    if payment.is_voided:
        raise DomainError(_("the payment is already void"), field="payment")
    if is_void:
        _refuse_void_of_moved(payment)
        require_no_live_invoice(payment)  # issued since the request: refused at approval too
    if is_void and payment.reversals.filter(status=PaymentReversal.Status.APPROVED).exists():
        raise DomainError(
            _("part of the payment was refunded meanwhile; refund the rest instead"),
            field="kind",
            code="refunded",
        )
    for cid, part in charges.items():
        if part > live.get(cid, ZERO):
            raise DomainError(
                _("the payment has only %(amount)s on charge %(charge)s")
                % {"amount": live.get(cid, ZERO), "charge": cid},
                field="charges",
                code="exceeds",
            )
    from_prepayment = payment.prepaid if is_void else reversal.from_prepayment
    if from_prepayment > 0:
        left = _prepaid_left(payment)
        if from_prepayment > left:
            raise DomainError(
                _("only %(amount)s of this payment's prepayment is left") % {"amount": left},
                field="from_prepayment",
                code="exceeds",
            )
        pool = prepayment_balance(payment.party_id, payment.earmark_id, exact=True)
        if from_prepayment > pool:
            raise DomainError(
                _("only %(amount)s of the prepayment is still unused; the rest has paid charges")
                % {"amount": pool},
                field="from_prepayment",
                code="exceeds",
            )
    _check_deposits_held(locked, charges)
    if is_void and (reversal.charges != {str(k): str(v) for k, v in charges.items()}):
        # what the void reverses now, for the record (the request is not a posted document)
        reversal.charges = {str(k): str(v) for k, v in charges.items()}
    originals = {
        a.charge_id: a
        for a in payment.allocations.filter(reverses__isnull=True, charge_id__in=list(charges))
    }
    Allocation.objects.bulk_create(
        [
            Allocation(
                estate_id=payment.estate_id,
                payment=payment,
                charge_id=cid,
                amount=-part,
                reverses=originals[cid],
            )
            for cid, part in charges.items()
        ]
    )
    for cid in charges:
        charge_refresh(charge=locked[cid])
    if effects:
        _undo_effects(actor, granted, [locked[cid] for cid in ahead], day, reversal.reason)
    label = "作废" if reversal.kind == PaymentReversal.Kind.VOID else "退款"
    receipt = Receipt.objects.filter(payment=payment).first()
    memo = f"{label} {receipt.code if receipt else payment.pk} {reversal.reason}"[:200]
    key = f"payment-reversal:{reversal.pk}"
    if reversal.kind == PaymentReversal.Kind.VOID and payment.entry_id:
        entry = entry_reverse(
            entry=JournalEntry.objects.get(pk=payment.entry_id),
            date=day,
            memo=memo,
            actor=actor,
            idempotency_key=key,
        )
    else:
        lines = [
            Line(
                CHANNEL_ACCOUNTS[reversal.refund_channel],
                credit=reversal.amount,
                party_id=payment.party_id,
            )
        ]
        on_charges = sum(charges.values(), ZERO)
        if on_charges:
            lines.append(Line(chart.RECEIVABLE, debit=on_charges))
        if reversal.from_prepayment:
            lines.append(
                Line(chart.PREPAYMENTS, debit=reversal.from_prepayment, party_id=payment.party_id)
            )
        entry = entry_post(
            estate=payment.estate_id,
            date=day,
            memo=memo,
            lines=lines,
            idempotency_key=key,
            source_type="payment_reversal",
            source_id=reversal.pk,
            actor=actor,
        )
    if reversal.from_prepayment:
        PrepaymentMovement.objects.create(
            estate_id=payment.estate_id,
            party_id=payment.party_id,
            fee_item_id=payment.earmark_id,
            kind=PrepaymentMovement.Kind.REFUND,
            amount=-reversal.from_prepayment,
            date=day,
            memo=memo,
            source_type="payment_reversal",
            source_id=str(reversal.pk),
            entry_id=entry.pk,
            idempotency_key=f"payment-reversal:{reversal.pk}",
        )
    now = timezone.now()
    reversal.status = PaymentReversal.Status.APPROVED
    reversal.decided_by = user_or_none(actor)
    reversal.decided_at = now
    reversal.decision_note = (note or "").strip()[:255]
    reversal.business_date = day
    reversal.shift = shift
    reversal.entry_id = entry.pk
    reversal.save()
    receivables_changed(
        charge_ids=list(charges), reversal_ids=[reversal.pk], money_days=[(reversal.estate_id, day)]
    )
    if reversal.kind == PaymentReversal.Kind.VOID:
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.VOIDED)
        Receipt.objects.filter(payment=payment).update(
            status=Receipt.Status.VOID, voided_at=now, void_reason=reversal.reason
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=reversal,
        summary=Summary(
            gettext_noop("void of %(amount)s of payment %(id)s")
            if reversal.kind == PaymentReversal.Kind.VOID
            else gettext_noop("refund of %(amount)s of payment %(id)s"),
            amount=reversal.amount,
            id=payment.pk,
        ),
    )
    return reversal


@transaction.atomic
def reversal_reject(*, actor, reversal: PaymentReversal, note: str) -> PaymentReversal:
    require_perm(actor, "payments.approve_reversal")
    require_estate(actor, reversal.estate_id)
    reversal = PaymentReversal.objects.select_for_update().get(pk=reversal.pk)
    if reversal.status != PaymentReversal.Status.REQUESTED:
        raise DomainError(
            _("already %(status)s") % {"status": reversal.get_status_display().lower()},
            field="reversal",
        )
    if not (note or "").strip():
        raise DomainError(_("say why it is rejected"), field="note")
    reversal.status = PaymentReversal.Status.REJECTED
    reversal.decided_by = user_or_none(actor)
    reversal.decided_at = timezone.now()
    reversal.decision_note = note.strip()[:255]
    reversal.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=reversal,
        summary=Summary(gettext_noop("rejected")),
    )
    return reversal


def payment_void(*, requested_by, approved_by, payment: Payment, reason: str, today=None):
    """Request and approve a void in one go (two people)."""
    reversal = reversal_request(actor=requested_by, payment=payment, kind="void", reason=reason)
    return reversal_approve(actor=approved_by, reversal=reversal, today=today)


def payment_refund(*, requested_by, approved_by, payment: Payment, reason: str, today=None, **kw):
    """Request and approve a refund in one go (two people)."""
    reversal = reversal_request(
        actor=requested_by, payment=payment, kind="refund", reason=reason, **kw
    )
    return reversal_approve(actor=approved_by, reversal=reversal, today=today)
