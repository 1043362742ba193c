"""Cashier shifts (班次): open with a float, close with the counted cash and POS totals, hand
over. A closed shift is locked: nothing more is taken in it."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, snapshot
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import ZERO, MoneySum
from wuye.registry.models import Estate
from wuye.registry.services import require_estate, require_perm

from ..models import CashierShift, Payment, PaymentReversal, RefundPayout
from ._common import business_today, money_in, require_day_open


def open_shift_of(actor, estate_id: int) -> CashierShift | None:
    return CashierShift.objects.filter(
        estate_id=estate_id, cashier=actor, status=CashierShift.Status.OPEN
    ).first()


@transaction.atomic
def shift_open(*, actor, estate: Estate, float_amount="0", today=None) -> CashierShift:
    """Open the actor's shift at `estate` with a cash float. One open shift per cashier."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, estate.pk)
    day = business_today(today)
    require_day_open(estate.pk, day)
    amount = money_in(float_amount, "float_amount", allow_zero=True)
    shift = CashierShift(estate=estate, cashier=actor, business_date=day, float_amount=amount)
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError as exc:
        raise DomainError(
            _("you already have an open shift at this estate; close it first"),
            field="shift",
            code="conflict",
        ) from exc
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=shift, after=snapshot(shift))
    return shift


def shift_expected(shift: CashierShift) -> dict[str, Decimal]:
    """What the cash box and the POS terminal should hold: the float plus cash taken, less
    cash paid back (voids and refunds, deposit refunds paid out) in the shift; POS likewise
    without a float."""
    taken = dict(
        Payment.objects.filter(shift=shift)
        .order_by()
        .values("channel")
        .annotate(s=MoneySum("amount"))
        .values_list("channel", "s")
    )
    back = dict(
        PaymentReversal.objects.filter(shift=shift, status=PaymentReversal.Status.APPROVED)
        .order_by()
        .values("refund_channel")
        .annotate(s=MoneySum("amount"))
        .values_list("refund_channel", "s")
    )
    # refunds paid out of the drawer (deposit refunds, issue 11 §6)
    for channel, amount in (
        RefundPayout.objects.filter(shift=shift)
        .order_by()
        .values("channel")
        .annotate(s=MoneySum("amount"))
        .values_list("channel", "s")
    ):
        back[channel] = back.get(channel, ZERO) + amount
    by_channel = {
        channel: taken.get(channel, ZERO) - back.get(channel, ZERO)
        for channel in set(taken) | set(back)
    }
    return {
        "cash": shift.float_amount + by_channel.get(Payment.Channel.CASH, ZERO),
        "pos": by_channel.get(Payment.Channel.POS, ZERO),
        "by_channel": by_channel,
    }


class ShiftVariance(DomainError):
    """A count that differs from what the shift expects: `cash` and `pos` are the variances
    (counted - expected) the page asks the cashier to confirm, with the reason."""

    def __init__(self, *, cash, pos, message: str, field: str = "counted_cash"):
        super().__init__(message, field=field, code="variance")
        self.cash, self.pos = cash, pos


@transaction.atomic
def shift_close(
    *,
    actor,
    shift: CashierShift,
    counted_cash,
    counted_pos="0",
    note: str = "",
    confirm_variance: bool = False,
) -> CashierShift:
    """Close a shift with what was counted; records expected amounts and the variances
    (counted - expected). The cashier closes their own; `close_any_shift` closes any.
    A count that differs from what is expected is refused (code `variance`, naming the
    difference) until it is confirmed (`confirm_variance`) with the reason in `note`."""
    require_estate(actor, shift.estate_id)
    shift = CashierShift.objects.select_for_update().get(pk=shift.pk)
    if shift.cashier_id != getattr(actor, "pk", None) and not actor.has_perm(
        "payments.close_any_shift"
    ):
        raise PermissionDenied(_("only the cashier or a supervisor closes this shift"))
    if shift.status != CashierShift.Status.OPEN:
        raise DomainError(_("the shift is already closed"), field="shift", code="closed")
    cash = money_in(counted_cash, "counted_cash", allow_zero=True)
    pos = money_in(counted_pos or "0", "counted_pos", allow_zero=True)
    expected = shift_expected(shift)
    before = snapshot(shift)
    shift.status = CashierShift.Status.CLOSED
    shift.closed_at = timezone.now()
    shift.counted_cash, shift.expected_cash = cash, expected["cash"]
    shift.counted_pos, shift.expected_pos = pos, expected["pos"]
    shift.cash_variance = cash - expected["cash"]
    shift.pos_variance = pos - expected["pos"]
    shift.close_note = (note or "").strip()[:255]
    if shift.cash_variance or shift.pos_variance:
        if not confirm_variance:
            raise ShiftVariance(
                cash=shift.cash_variance,
                pos=shift.pos_variance,
                message=_(
                    "the count differs from what is expected: cash %(cash)s, POS %(pos)s; "
                    "confirm the difference and give the reason"
                )
                % {"cash": shift.cash_variance, "pos": shift.pos_variance},
            )
        if not shift.close_note:
            raise ShiftVariance(
                cash=shift.cash_variance,
                pos=shift.pos_variance,
                message=_("say why the count differs"),
                field="note",
            )
    shift.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=shift,
        summary=Summary(
            gettext_noop("shift closed, cash variance %(cash)s, POS %(pos)s"),
            cash=shift.cash_variance,
            pos=shift.pos_variance,
        ),
        before=before,
        after=snapshot(shift),
    )
    return shift


@transaction.atomic
def shift_hand_over(*, actor, shift: CashierShift) -> CashierShift:
    """The next cashier or finance receives a closed shift's cash box."""
    require_estate(actor, shift.estate_id)
    shift = CashierShift.objects.select_for_update().get(pk=shift.pk)
    if shift.status != CashierShift.Status.CLOSED:
        raise DomainError(_("only a closed shift is handed over"), field="shift")
    if shift.cashier_id == getattr(actor, "pk", None):
        raise DomainError(_("the shift is handed over to someone else"), field="shift")
    require_perm(actor, "payments.take_payment")
    shift.status = CashierShift.Status.HANDED_OVER
    shift.handed_to = actor
    shift.handed_at = timezone.now()
    shift.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=shift,
        summary=Summary(gettext_noop("handed over")),
    )
    return shift
