"""The exception queue: the money waits on the suspense account (`suspense.py`) until staff
credit it to the owner, refund it through the provider, or write it off, once.

Writing off takes two people: one asks, with the reason; another, with
`online.approve_write_off`, approves (or the asker withdraws). Every decision moves the money
out of suspense with its own entry, in the same transaction as the decision."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.payments.services._common import CHANNEL_ACCOUNTS
from wuye.registry.services import require_estate, require_perm

from ..models import PaymentException
from ..providers import ProviderError, client_for
from .suspense import suspense_book, suspense_move_out


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _open_item(actor, item: PaymentException, perm: str = "online.manage_online"):
    require_perm(actor, perm)
    if item.estate_id:
        require_estate(actor, item.estate_id)
    locked = (
        PaymentException.objects.select_for_update(of=("self",))
        .select_related("order__party", "order__merchant")
        .get(pk=item.pk)
    )
    if locked.status != PaymentException.Status.OPEN:
        raise DomainError(
            _("already %(status_display)s")
            % {"status_display": locked.get_status_display().lower()},
            field="status",
        )
    suspense_book(locked, actor=actor)  # queued before the suspense account existed
    return locked


def _resolve(actor, item: PaymentException, status: str, note: str, summary: Summary) -> None:
    item.status = status
    item.resolved_by = _user(actor)
    item.resolved_at = timezone.now()
    item.note = (note or "").strip()[:255]
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=item, summary=summary)


def _booked(item: PaymentException) -> bool:
    """Whether the money is on the suspense account (an item without an estate or amount
    cannot be: it never entered the books)."""
    return bool(item.entry_id)


@transaction.atomic
def exception_credit(*, actor, item: PaymentException, note: str = "") -> Payment:
    """Post the money as the owner's payment: to their open charges oldest first, the rest
    kept as prepayment; and move it out of suspense (Dr suspense, Cr clearing: the payment
    itself debits the clearing account). Needs the order (who paid)."""
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
        received=True,
        source=Payment.Source.ONLINE,
        idempotency_key=f"online-exception:{item.pk}",
        note=f"{item.get_reason_display()} {item.out_trade_no}"[:255],
    )
    if _booked(item):
        item.out_entry_id = suspense_move_out(
            item,
            to=_clearing(item),
            memo=f"待查明款项转收款 {item.transaction_id} {item.order.party.name}",
            actor=actor,
            day=payment.business_date,
        )
    item.payment = payment
    _resolve(actor, item, PaymentException.Status.CREDITED, note, Summary(gettext_noop("credited")))
    return payment


def _clearing(item: PaymentException) -> str:
    return CHANNEL_ACCOUNTS[item.provider]


def exception_refund(*, actor, item: PaymentException, note: str = "") -> PaymentException:
    """Give the money back through the provider (full amount), then mark the item refunded
    and move it out of suspense (Dr suspense, Cr clearing)."""
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
        if _booked(locked):
            locked.out_entry_id = suspense_move_out(
                locked,
                to=_clearing(locked),
                memo=f"待查明款项退回 {locked.transaction_id}",
                actor=actor,
            )
        _resolve(
            actor, locked, PaymentException.Status.REFUNDED, note, Summary(gettext_noop("refunded"))
        )
    return locked


@transaction.atomic
def exception_write_off_request(*, actor, item: PaymentException, reason: str):
    """Ask to write the money off (it can be neither credited nor refunded), with the
    reason; another person approves (`exception_write_off_approve`)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("say why the money is written off"), field="reason")
    item = _open_item(actor, item)
    if item.write_off_requested_by_id:
        raise DomainError(_("a write-off is already asked for"), field="status")
    item.write_off_reason = reason[:255]
    item.write_off_requested_by = _user(actor)
    item.write_off_requested_at = timezone.now()
    item.save(
        update_fields=["write_off_reason", "write_off_requested_by", "write_off_requested_at"]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=item,
        summary=Summary(gettext_noop("write-off asked: %(reason)s"), reason=item.write_off_reason),
    )
    return item


@transaction.atomic
def exception_write_off_approve(*, actor, item: PaymentException, note: str = ""):
    """Approve a write-off another person asked for: Dr suspense, Cr other income."""
    item = _open_item(actor, item, perm="online.approve_write_off")
    if not item.write_off_requested_by_id:
        raise DomainError(_("nobody asked to write this off"), field="status")
    if item.write_off_requested_by_id == getattr(actor, "pk", None):
        raise DomainError(
            _("a write-off is approved by someone other than who asked for it"),
            field="approved_by",
        )
    if _booked(item):
        item.out_entry_id = suspense_move_out(
            item,
            to=chart.OTHER_INCOME,
            memo=f"待查明款项核销 {item.transaction_id}: {item.write_off_reason}",
            actor=actor,
        )
    _resolve(
        actor, item, PaymentException.Status.WRITTEN_OFF, note, Summary(gettext_noop("written off"))
    )
    return item


@transaction.atomic
def exception_write_off_withdraw(*, actor, item: PaymentException, note: str = ""):
    """Withdraw (the asker) or turn down (an approver) a write-off asked for."""
    item = _open_item(actor, item)
    if not item.write_off_requested_by_id:
        raise DomainError(_("nobody asked to write this off"), field="status")
    if item.write_off_requested_by_id != getattr(actor, "pk", None):
        require_perm(actor, "online.approve_write_off")
    before = item.write_off_reason
    item.write_off_reason = ""
    item.write_off_requested_by = None
    item.write_off_requested_at = None
    item.save(
        update_fields=["write_off_reason", "write_off_requested_by", "write_off_requested_at"]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=item,
        summary=Summary(
            gettext_noop("write-off withdrawn: %(reason)s %(note)s"), reason=before, note=note
        ),
    )
    return item
