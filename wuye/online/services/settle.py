"""Settling a provider's word on a payment: exactly one posting per paid order.

Whoever brings the news (a notification, a resend, eight racing copies, the active query, the
window's payment-code answer, the inbox worker) ends here. The order row is locked and moved
created -> paid once; the payment is posted in the same transaction through
`payments.payment_take` (or, for a batch from the inbox, `payments.payments_take`), whose
UNIQUE (channel, external ref) and idempotency key are the second line of defence. Money that
cannot simply be posted goes to the exception queue.

`transaction_settle` settles one, `transactions_settle` a batch (the inbox worker): the same
decisions (`_decide`) in one transaction, the postings written set-wise."""

import logging
from collections.abc import Sequence
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.payments.models import CashierShift, Payment
from wuye.payments.services import payment_take
from wuye.payments.services._common import any_of, columns, select_models, update_rows
from wuye.payments.services.payments import PaymentRequest, payments_take
from wuye.registry.models import Estate, Party

from ..models import (
    InboxNotification,
    MerchantAccount,
    PaymentException,
    PaymentOrder,
    PaymentOrderCharge,
    Provider,
)
from ..providers import Transaction, client_for
from ._common import ONLINE
from .suspense import suspense_book

log = logging.getLogger(__name__)
Outcome = InboxNotification.Outcome
Reason = PaymentException.Reason
UNSETTLED = (Outcome.PENDING, Outcome.QUEUED, Outcome.ERROR)
PAID_FIELDS = ["status", "transaction_id", "paid_amount", "paid_at", "payment"]


def _estate_of(tx: Transaction) -> int | None:
    """The estate of the merchant account whose identifiers `tx` carries (money for an order
    nobody knows still landed in that estate's account)."""
    from .notify import _active_accounts

    for account, client in _active_accounts(tx.provider):
        expected = client.expected_ids()
        if expected and all(tx.merchant_ids.get(k, "") == v for k, v in expected.items()):
            return account.estate_id
    return None


def _exception(tx: Transaction, reason: str, *, order=None, estate_id=None, detail="") -> None:
    """Queue the money for staff (once per provider transaction) and book it on the
    channel's suspense account in the same transaction (`suspense.suspense_book`)."""
    ref = tx.transaction_id or f"{tx.event_id or tx.out_trade_no}"
    if order is not None:
        estate_id = order.estate_id
    elif estate_id is None:
        estate_id = _estate_of(tx)
    try:
        with transaction.atomic():
            item = PaymentException.objects.create(
                provider=tx.provider,
                transaction_id=ref[:64],
                out_trade_no=tx.out_trade_no[:64],
                order=order,
                estate_id=estate_id,
                amount=tx.amount,
                reason=reason,
                detail=detail[:255],
            )
            suspense_book(item, actor=ONLINE)
            audit_record(
                actor=ONLINE,
                action=AuditEvent.Action.CREATE,
                subject=item,
                summary=Summary(
                    gettext_noop("payment to check: %(amount)s %(ref)s"), amount=tx.amount, ref=ref
                ),
            )
    except IntegrityError:
        pass  # already queued by an earlier copy of the news
    log.warning(
        "payment exception %s: %s %s order %s %s", reason, tx.provider, ref, tx.out_trade_no, detail
    )


def _ids_match(order: PaymentOrder, tx: Transaction) -> str:
    """'' when mchid/appid (WeChat) or app_id/seller_id (Alipay) are the order's merchant's."""
    return _wrong_ids(order.merchant, tx)


def _wrong_ids(merchant: MerchantAccount, tx: Transaction) -> str:
    expected = client_for(merchant).expected_ids()
    wrong = [k for k, v in expected.items() if tx.merchant_ids.get(k, "") != v]
    return ", ".join(f"{k}={tx.merchant_ids.get(k, '')!r}" for k in wrong)


def _into_shift(order: PaymentOrder) -> bool:
    """Whether the order's money lands in a cashier's shift: a window order whose shift is
    still open. Money for a counter QR paid after its shift was closed is posted as an online
    payment: in the books the same day, and the closed shift stays as it was counted."""
    return bool(
        order.source == PaymentOrder.Source.WINDOW
        and order.cashier_id
        and CashierShift.objects.filter(pk=order.shift_id, status=CashierShift.Status.OPEN).exists()
    )


def _post(order: PaymentOrder, tx: Transaction) -> Payment | None:
    """Post the order's payment to its charges still open (the rest kept as prepayment), as
    the window's cashier for window orders (it lands in their shift, `_into_shift`), else as
    the system. A shift closed in the instant between the check and the posting makes it an
    online payment after all. `payment_take` is atomic: a refusal rolls back to its
    savepoint, and the money goes to the exception queue."""
    window = _into_shift(order)
    while True:
        try:
            return payment_take(
                actor=order.cashier if window else ONLINE,
                party=order.party,
                amount=order.amount,
                channel=order.provider,
                external_ref=tx.transaction_id,
                charge_ids=order.charge_ids,
                keep_change_as_prepayment=True,
                skip_settled=True,
                idempotency_key=f"online:{order.out_trade_no}",
                source=Payment.Source.WINDOW if window else Payment.Source.ONLINE,
                note=f"{_provider(order.provider)} {order.out_trade_no}",
            )
        except DomainError as exc:
            if window and exc.field == "shift":
                window = False  # the shift closed meanwhile
                continue
            _refused(tx, order, exc)
            return None


_labels: dict[tuple[str, str], str] = {}


def _provider(value: str) -> str:
    """`get_provider_display()`, looked up once per process and language."""
    key = (translation.get_language() or "", value)
    if key not in _labels:
        _labels[key] = str(Provider(value).label)
    return _labels[key]


def _request(order: PaymentOrder, tx: Transaction) -> PaymentRequest:
    """What `_post` asks of `payment_take`, for `payments_take`."""
    return PaymentRequest(
        party=order.party,
        amount=order.amount,
        channel=order.provider,
        charge_ids=tuple(order.charge_ids),
        idempotency_key=f"online:{order.out_trade_no}",
        external_ref=tx.transaction_id,
        keep_change_as_prepayment=True,
        skip_settled=True,
        source=Payment.Source.ONLINE,
        note=f"{_provider(order.provider)} {order.out_trade_no}",
    )


def _refused(tx: Transaction, order: PaymentOrder, exc: DomainError) -> None:
    if exc.code == "charges_settled":
        _exception(
            tx, Reason.CHARGES_SETTLED, order=order, detail="every chosen charge was settled"
        )
    else:
        _exception(tx, Reason.POSTING_FAILED, order=order, detail=str(exc))


def _lock_orders(numbers: Sequence[str]) -> dict[str, PaymentOrder]:
    """The orders of these numbers, locked in primary-key order, each with its party (and
    estate), merchant account and the charges it was placed for (`charge_ids`, in the order
    chosen): one hand-written statement (see `payments.services._common.select_models`)."""
    if not numbers:
        return {}
    quote = connection.ops.quote_name
    lines = quote(PaymentOrderCharge._meta.db_table)
    if connection.vendor == "postgresql":
        lock = " FOR UPDATE OF o"
        charges = f"ARRAY(SELECT charge_id FROM {lines} WHERE order_id = o.id ORDER BY id)"  # noqa: S608
    else:
        lock = ""
        charges = (
            f"(SELECT group_concat(charge_id) FROM (SELECT charge_id FROM {lines} "  # noqa: S608
            "WHERE order_id = o.id ORDER BY id))"
        )
    where, params = any_of("o.out_trade_no", list(numbers))
    sql = (
        f"SELECT {columns(PaymentOrder, 'o')}, {columns(Party, 'p')}, "  # noqa: S608
        f"{columns(Estate, 'e')}, {columns(MerchantAccount, 'm')}, {charges} "
        f"FROM {quote(PaymentOrder._meta.db_table)} o "
        f"JOIN {quote(Party._meta.db_table)} p ON p.id = o.party_id "
        f"JOIN {quote(Estate._meta.db_table)} e ON e.id = p.estate_id "
        f"JOIN {quote(MerchantAccount._meta.db_table)} m ON m.id = o.merchant_id "
        f"WHERE {where} ORDER BY o.id{lock}"
    )
    found = {}
    for order, party, estate, merchant, charge_ids in select_models(
        sql, params, [PaymentOrder, Party, Estate, MerchantAccount], extra=1
    ):
        party.estate = estate
        order.party = party
        order.merchant = merchant
        if isinstance(charge_ids, str):  # SQLite: "12,13"
            charge_ids = [int(i) for i in charge_ids.split(",")]
        order.charge_ids = list(charge_ids or [])
        found[order.out_trade_no] = order
    return found


def _finish(paid: list[PaymentOrder], settled: list[tuple[int, str, PaymentOrder | None]]):
    """Write the orders just paid (status, transaction, amount, time, payment) and record
    what became of each notification (inbox id, outcome, order) and when, unless an earlier
    copy already did: one statement on PostgreSQL."""
    table = connection.ops.quote_name(InboxNotification._meta.db_table)
    ids = [inbox_id for inbox_id, _, _ in settled]
    outcomes = [outcome for _, outcome, _ in settled]
    orders = [order.pk if order is not None else None for _, _, order in settled]
    now = timezone.now()
    if connection.vendor != "postgresql":
        update_rows(PaymentOrder, PAID_FIELDS, paid)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET outcome = %s, order_id = %s, settled_at = %s "  # noqa: S608  # table/column names from the models, values bound  # nosec B608
                "WHERE id = %s AND outcome IN (%s, %s, %s)",
                [
                    [outcome, order, now, inbox_id, *UNSETTLED]
                    for inbox_id, outcome, order in zip(ids, outcomes, orders, strict=True)
                ],
            )
        return
    order_columns = [
        [o.pk for o in paid],
        [o.status for o in paid],
        [o.transaction_id for o in paid],
        [o.paid_amount for o in paid],
        [o.paid_at for o in paid],
        [o.payment_id for o in paid],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_finish_sql(), [*order_columns, now, ids, outcomes, orders, *UNSETTLED])


@lru_cache(maxsize=1)
def _finish_sql() -> str:
    quote = connection.ops.quote_name
    inbox = quote(InboxNotification._meta.db_table)
    return (
        f"WITH o AS (UPDATE {quote(PaymentOrder._meta.db_table)} AS t "  # noqa: S608
        "SET status = v.status, transaction_id = v.transaction_id, "
        "paid_amount = v.paid_amount, paid_at = v.paid_at, payment_id = v.payment_id "
        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::numeric[], "
        "%s::timestamptz[], %s::bigint[]) "
        "AS v (id, status, transaction_id, paid_amount, paid_at, payment_id) "
        "WHERE t.id = v.id RETURNING t.id) "
        f"UPDATE {inbox} AS t SET outcome = v.outcome, order_id = v.order_id, settled_at = %s "
        "FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS v (id, outcome, order_id) "
        "WHERE t.id = v.id AND t.outcome IN (%s, %s, %s)"
    )


@transaction.atomic
def transaction_settle(
    *, tx: Transaction, verified_by: str | None = "notification", inbox_id: int | None = None
) -> str:
    """Apply the provider's word `tx` (verified by the caller) and return the outcome:
    posted, duplicate, not_paid, exception or refused. `verified_by` "notification" also
    checks the merchant identifiers inside the notification."""
    order = _lock_orders([tx.out_trade_no]).get(tx.out_trade_no)
    outcome = _decide(order, tx, check_ids=verified_by == "notification")
    paid = []
    if outcome is None:
        payment = _post(order, tx)
        _mark_paid(order, tx, payment)
        paid.append(order)
        outcome = Outcome.POSTED if payment is not None else Outcome.EXCEPTION
    settled = [(inbox_id, outcome, order)] if inbox_id is not None else []
    if paid or settled:
        _finish(paid, settled)
    return outcome


@transaction.atomic
def transactions_settle(items: Sequence[tuple[Transaction, int]]) -> list[str]:
    """Settle a batch of verified notifications (transaction, inbox id) in one transaction,
    each as `transaction_settle` would: the orders locked in one statement, the decisions
    taken in turn (a second copy of the news for an order in the batch is its duplicate),
    the payments posted together by `payments.payments_take`, the orders and the inbox
    updated in one statement. Window orders (the cashier's shift) are posted one by
    one. Returns the outcomes in the order given."""
    orders = _lock_orders(sorted({tx.out_trade_no for tx, _ in items}))
    outcomes: list[str] = []
    posting: list[tuple[int, PaymentOrder, Transaction]] = []
    for n, (tx, _) in enumerate(items):
        order = orders.get(tx.out_trade_no)
        outcome = _decide(order, tx, check_ids=True)
        if outcome is None:
            if order.source == PaymentOrder.Source.WINDOW:
                payment = _post(order, tx)
                outcome = Outcome.POSTED if payment is not None else Outcome.EXCEPTION
            else:
                payment = None
                posting.append((n, order, tx))
                outcome = Outcome.POSTED
            _mark_paid(order, tx, payment)
        outcomes.append(outcome)
    if posting:
        results = payments_take(
            actor=ONLINE, requests=[_request(order, tx) for _, order, tx in posting]
        )
        for (n, order, tx), result in zip(posting, results, strict=True):
            if isinstance(result, DomainError):
                _refused(tx, order, result)
                outcomes[n] = Outcome.EXCEPTION
            else:
                order.payment = result
    _finish(
        [o for o in orders.values() if getattr(o, "_settled_now", False)],
        [
            (inbox_id, outcome, orders.get(tx.out_trade_no))
            for (tx, inbox_id), outcome in zip(items, outcomes, strict=True)
        ],
    )
    return outcomes


def _mark_paid(order: PaymentOrder, tx: Transaction, payment: Payment | None) -> None:
    """created -> paid, in memory (the caller writes it)."""
    order.status = PaymentOrder.Status.PAID
    order.transaction_id = tx.transaction_id[:64]
    order.paid_amount = tx.amount
    order.paid_at = timezone.now()
    order.payment = payment
    order._settled_now = True


def _decide(order: PaymentOrder | None, tx: Transaction, *, check_ids: bool) -> str | None:
    """The outcome for news that is not to be posted (queuing the money as an exception
    where it was paid), or None: the order is to be posted now."""
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
    return None
