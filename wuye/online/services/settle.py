"""Settling a provider's word on a payment: exactly one posting per paid order.

Whoever brings the news (a notification, a resend, eight racing copies, the active query, the
window's payment-code answer) ends here. The order row is locked (`select_for_update`) and
moved created -> paid once; the payment is posted in the same transaction through
`payments.payment_take`, whose UNIQUE (channel, external ref) and idempotency key are the
second line of defence. Money that cannot simply be posted goes to the exception queue."""

import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.payments.services._common import columns, select_models, update_rows
from wuye.registry.models import Estate, Party

from ..models import (
    InboxNotification,
    MerchantAccount,
    PaymentException,
    PaymentOrder,
    PaymentOrderCharge,
)
from ..providers import Transaction, client_for
from ._common import ONLINE

log = logging.getLogger(__name__)
Outcome = InboxNotification.Outcome
Reason = PaymentException.Reason


def _exception(tx: Transaction, reason: str, *, order=None, estate_id=None, detail="") -> None:
    """Queue the money for staff (once per provider transaction)."""
    ref = tx.transaction_id or f"{tx.event_id or tx.out_trade_no}"
    try:
        with transaction.atomic():
            item = PaymentException.objects.create(
                provider=tx.provider,
                transaction_id=ref[:64],
                out_trade_no=tx.out_trade_no[:64],
                order=order,
                estate_id=order.estate_id if order is not None else estate_id,
                amount=tx.amount,
                reason=reason,
                detail=detail[:255],
            )
            audit_record(
                actor=ONLINE,
                action=AuditEvent.Action.CREATE,
                subject=item,
                summary=f"{item.get_reason_display()}: {tx.amount} {ref}",
            )
    except IntegrityError:
        pass  # already queued by an earlier copy of the news
    log.warning(
        "payment exception %s: %s %s order %s %s", reason, tx.provider, ref, tx.out_trade_no, detail
    )


def _ids_match(order: PaymentOrder, tx: Transaction) -> str:
    """'' when mchid/appid (WeChat) or app_id/seller_id (Alipay) are the order's merchant's."""
    expected = client_for(order.merchant).expected_ids()
    wrong = [k for k, v in expected.items() if tx.merchant_ids.get(k, "") != v]
    return ", ".join(f"{k}={tx.merchant_ids.get(k, '')!r}" for k in wrong)


def _post(order: PaymentOrder, tx: Transaction) -> Payment | None:
    """Post the order's payment to the charges still open (the rest kept as prepayment), as
    the window's cashier for window orders (it lands in the shift), else as the system.
    `payment_take` is atomic: a refusal rolls back to its savepoint, and the money goes to
    the exception queue."""
    still_open = _open_lines(order)
    if not still_open:
        _exception(
            tx, Reason.CHARGES_SETTLED, order=order, detail="every chosen charge was settled"
        )
        return None
    window = order.source == PaymentOrder.Source.WINDOW and order.cashier_id
    try:
        return payment_take(
            actor=order.cashier if window else ONLINE,
            party=order.party,
            amount=order.amount,
            channel=order.provider,
            external_ref=tx.transaction_id,
            charge_ids=still_open,
            keep_change_as_prepayment=True,
            idempotency_key=f"online:{order.out_trade_no}",
            source=Payment.Source.WINDOW if window else Payment.Source.ONLINE,
            note=f"{order.get_provider_display()} {order.out_trade_no}",
        )
    except DomainError as exc:
        _exception(tx, Reason.POSTING_FAILED, order=order, detail=str(exc))
        return None


def _open_lines(order: PaymentOrder) -> list[int]:
    """The order's charges still open, in the order chosen."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT l.charge_id FROM {quote(PaymentOrderCharge._meta.db_table)} l "  # noqa: S608
        f"JOIN {quote(Charge._meta.db_table)} c ON c.id = l.charge_id "
        "WHERE l.order_id = %s AND c.status = %s ORDER BY l.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [order.pk, Charge.Status.OPEN])
        return [row[0] for row in cursor.fetchall()]


def _lock_order(out_trade_no: str) -> PaymentOrder | None:
    """The order, locked, with its party (and estate) and merchant account: one
    hand-written statement (see `payments.services._common.select_models`)."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE OF o" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT {columns(PaymentOrder, 'o')}, {columns(Party, 'p')}, "  # noqa: S608
        f"{columns(Estate, 'e')}, {columns(MerchantAccount, 'm')} "
        f"FROM {quote(PaymentOrder._meta.db_table)} o "
        f"JOIN {quote(Party._meta.db_table)} p ON p.id = o.party_id "
        f"JOIN {quote(Estate._meta.db_table)} e ON e.id = p.estate_id "
        f"JOIN {quote(MerchantAccount._meta.db_table)} m ON m.id = o.merchant_id "
        f"WHERE o.out_trade_no = %s{lock}"
    )
    rows = select_models(sql, [out_trade_no], [PaymentOrder, Party, Estate, MerchantAccount])
    if not rows:
        return None
    order, party, estate, merchant = rows[0]
    party.estate = estate
    order.party = party
    order.merchant = merchant
    return order


def _inbox_outcome(inbox_id: int, outcome: str, order: PaymentOrder | None) -> None:
    """Record what became of the notification (unless an earlier copy already did)."""
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(InboxNotification._meta.db_table)} SET outcome = %s, order_id = %s "  # noqa: S608
        "WHERE id = %s AND outcome IN (%s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [outcome, order.pk if order else None, inbox_id, Outcome.PENDING, Outcome.ERROR],
        )


@transaction.atomic
def transaction_settle(
    *, tx: Transaction, verified_by: str | None = "notification", inbox_id: int | None = None
) -> str:
    """Apply the provider's word `tx` (verified by the caller) and return the outcome:
    posted, duplicate, not_paid, exception or refused. `verified_by` "notification" also
    checks the merchant identifiers inside the notification."""
    order = _lock_order(tx.out_trade_no)
    outcome = _decide(order, tx, check_ids=verified_by == "notification")
    if inbox_id is not None:
        _inbox_outcome(inbox_id, outcome, order)
    return outcome


def _decide(order: PaymentOrder | None, tx: Transaction, *, check_ids: bool) -> str:
    if order is None:
        if tx.paid:
            _exception(tx, Reason.UNKNOWN_ORDER, detail=f"no order {tx.out_trade_no}")
        return Outcome.REFUSED
    if order.provider != tx.provider:
        return Outcome.REFUSED
    if check_ids and (wrong := _ids_match(order, tx)):
        if tx.paid:
            _exception(tx, Reason.MERCHANT_MISMATCH, order=order, detail=wrong)
        return Outcome.REFUSED
    if not tx.paid:
        return Outcome.NOT_PAID
    if tx.currency != "CNY" or tx.amount != order.amount:
        _exception(
            tx,
            Reason.AMOUNT_MISMATCH,
            order=order,
            detail=f"paid {tx.amount} {tx.currency}, order {order.amount} CNY",
        )
        return Outcome.REFUSED
    if order.status == PaymentOrder.Status.PAID:
        if order.transaction_id == tx.transaction_id:
            return Outcome.DUPLICATE
        _exception(tx, Reason.PAID_TWICE, order=order, detail=f"first {order.transaction_id}")
        return Outcome.EXCEPTION
    if order.status in (PaymentOrder.Status.CLOSED, PaymentOrder.Status.EXPIRED):
        reason = (
            Reason.ORDER_CLOSED
            if order.status == PaymentOrder.Status.CLOSED
            else Reason.ORDER_EXPIRED
        )
        _exception(tx, reason, order=order)
        return Outcome.EXCEPTION
    payment = _post(order, tx)
    order.status = PaymentOrder.Status.PAID
    order.transaction_id = tx.transaction_id[:64]
    order.paid_amount = tx.amount
    order.paid_at = timezone.now()
    order.payment = payment
    update_rows(
        PaymentOrder, ["status", "transaction_id", "paid_amount", "paid_at", "payment"], [order]
    )
    return Outcome.POSTED if payment is not None else Outcome.EXCEPTION
