"""The exception queue: staff credit the money to the owner, refund it through the provider,
or dismiss the item (with a note), once."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.core.errors import DomainError
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.registry.services import require_estate, require_perm

from ..models import PaymentException
from ..providers import ProviderError, client_for


def _open_item(actor, item: PaymentException) -> PaymentException:
    require_perm(actor, "online.manage_online")
    if item.estate_id:
        require_estate(actor, item.estate_id)
    locked = (
        PaymentException.objects.select_for_update(of=("self",))
        .select_related("order__party")
        .get(pk=item.pk)
    )
    if locked.status != PaymentException.Status.OPEN:
        raise DomainError(
            _("already %(status_display)s")
            % {"status_display": locked.get_status_display().lower()},
            field="status",
        )
    return locked


@transaction.atomic
def exception_credit(*, actor, item: PaymentException, note: str = "") -> Payment:
    """Post the money as the owner's payment: to their open charges oldest first, the rest
    kept as prepayment. Needs the order (who paid)."""
    item = _open_item(actor, item)
    if item.order is None or item.amount is None:
        raise DomainError(_("no order says who paid this; refund it instead"), field="order")
    payment = payment_take(
        actor=actor,
        party=item.order.party,
        amount=item.amount,
        channel=item.provider,
        external_ref=item.transaction_id,
        keep_change_as_prepayment=True,
        source=Payment.Source.ONLINE,
        idempotency_key=f"online-exception:{item.pk}",
        note=f"{item.get_reason_display()} {item.out_trade_no}"[:255],
    )
    item.status = PaymentException.Status.CREDITED
    item.payment = payment
    item.resolved_by = actor if getattr(actor, "pk", None) else None
    item.resolved_at = timezone.now()
    item.note = note[:255]
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=item, summary="credited")
    return payment


def exception_refund(*, actor, item: PaymentException, note: str = "") -> PaymentException:
    """Give the money back through the provider (full amount), then mark the item refunded."""
    with transaction.atomic():
        locked = _open_item(actor, item)
        if locked.order is None or locked.amount is None:
            raise DomainError(_("refund this one in the merchant platform"), field="order")
        refund_no = locked.refund_no or f"RF{locked.pk}{secrets.token_hex(4).upper()}"
        PaymentException.objects.filter(pk=locked.pk).update(refund_no=refund_no)
    try:
        client_for(locked.order.merchant).refund(
            out_trade_no=locked.out_trade_no,
            out_refund_no=refund_no,
            amount=locked.amount,
            total=locked.amount,
            reason=locked.get_reason_display(),
        )
    except ProviderError as exc:
        raise DomainError(_("the provider refused the refund: %(exc)s") % {"exc": exc}) from exc
    with transaction.atomic():
        locked = _open_item(actor, item)
        locked.status = PaymentException.Status.REFUNDED
        locked.resolved_by = actor if getattr(actor, "pk", None) else None
        locked.resolved_at = timezone.now()
        locked.note = note[:255]
        locked.save()
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, subject=locked, summary="refunded"
        )
    return locked


@transaction.atomic
def exception_dismiss(*, actor, item: PaymentException, note: str) -> PaymentException:
    if not (note or "").strip():
        raise DomainError(_("say why"), field="note")
    item = _open_item(actor, item)
    item.status = PaymentException.Status.DISMISSED
    item.resolved_by = actor if getattr(actor, "pk", None) else None
    item.resolved_at = timezone.now()
    item.note = note.strip()[:255]
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=item, summary="dismissed")
    return item
