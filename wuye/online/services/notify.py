"""The notify endpoints' work: verify, store in the inbox, then act.

Two ways to act (`WUYE_PAY["notify_posting"]`): "sync" (the default) posts the payment before
replying; "worker" replies once the verified notification is durably in the inbox and names
an order it may settle (`_queue_check`: the order exists, of this provider and merchant,
the amount right; asked in the INSERT itself, so an acknowledgement is one statement once
the merchant accounts are cached), and the inbox worker (`inbox.inbox_post`) posts the queued
ones in batches. Anything the check refuses is settled at once, as in "sync", so the replies
are the same in both: a wrong order or amount is refused (4xx) and queued as an exception.

1. Verify exactly as the provider specifies (providers/wechat.py, providers/alipay.py) with
   the keys of the merchant account the notification names (WeChat: Wechatpay-Serial; Alipay:
   app_id). Anything that fails is stored as rejected, logged, and answered with the
   provider's error body and a 4xx; it never posts money.
2. Store the raw notification (body, headers) with its verdict, committed before acting. A
   verified event is stored once per (provider, event id); a resend counts a delivery.
3. Act: `settle.transaction_settle` under the order's row lock; reply success when the money
   is posted, was already posted, or is queued as an exception, so the provider stops
   resending; refuse (4xx) an unknown order, a wrong amount or a wrong merchant."""

import logging
import time
from decimal import Decimal
from functools import lru_cache

from django.db import connection

from wuye.payments.services._common import any_of, columns, select_models

from ..conf import generation, pay_settings
from ..models import InboxNotification, MerchantAccount, PaymentOrder, Provider
from ..providers import NotifyRejected, ProviderError, client_for
from ..providers.alipay import AlipayClient
from ..providers.registry import client_stamp
from ..providers.wechat import WechatClient
from .settle import transaction_settle

log = logging.getLogger(__name__)
Outcome = InboxNotification.Outcome
SYNC, WORKER = "sync", "worker"
# a resend of these needs nothing more (an exception is queued already)
SETTLED_OK = (Outcome.POSTED, Outcome.DUPLICATE, Outcome.NOT_PAID, Outcome.EXCEPTION)
REPLIES = {Provider.WECHAT: WechatClient, Provider.ALIPAY: AlipayClient}
MAX_BODY = 64 * 1024
SECRET_HEADERS = ("cookie", "authorization", "proxy-authorization")
MAX_HEADERS = 50


_mode: dict = {}


def posting_mode() -> str:
    """`WUYE_PAY["notify_posting"]`: "sync" or "worker" (read again when the settings
    change, see `conf.generation`)."""
    key = generation()  # a stat of WUYE_PAY_FILE; cheap next to a posting
    if key not in _mode:
        _mode.clear()
        mode = str(pay_settings().get("notify_posting") or SYNC)
        _mode[key] = mode if mode in (SYNC, WORKER) else SYNC
    return _mode[key]


def _text(value) -> str:
    """Text PostgreSQL can store (no NUL), whatever was sent."""
    return str(value).replace("\x00", "\\x00")


def _headers_to_keep(headers) -> dict[str, str]:
    """Every header as it came (the evidence of what the provider sent), but credentials a
    proxy or a client might add, and at most `MAX_HEADERS` of 500 characters each."""
    kept = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            continue
        if len(kept) >= MAX_HEADERS:
            break
        kept[_text(name)[:100]] = _text(value)[:500]
    return kept


_accounts: dict[str, tuple] = {}
ACCOUNTS_RECHECK_SECONDS = 1.0


def accounts_forget(**_) -> None:
    """Forget the cached merchant accounts (a MerchantAccount was saved or deleted in this
    process: see apps.py); other processes read them again within a second."""
    _accounts.clear()


def _active_accounts(provider: str) -> list[tuple[MerchantAccount, object]]:
    """The active merchant accounts of `provider` with their clients. Read from the database
    at most once a second per process (and at once after a change in this process): they
    change seldom, and reading them was a quarter of an acknowledgement's statements. An
    account switched off is still believed for that second; its money was really paid."""
    now = time.monotonic()
    stamp = client_stamp()
    found = _accounts.get(provider)
    if found is not None and found[0] == stamp and now - found[1] < ACCOUNTS_RECHECK_SECONDS:
        return found[2]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {columns(MerchantAccount, 'm')} FROM {quote(MerchantAccount._meta.db_table)} m "  # noqa: S608
        "WHERE m.provider = %s AND m.is_active ORDER BY m.id"
    )
    pairs = []
    for (account,) in select_models(sql, [provider], [MerchantAccount]):
        try:
            pairs.append((account, client_for(account)))
        except ProviderError as exc:  # misconfigured, or the sandbox is off
            if getattr(exc, "code", "") != "sandbox_off":
                log.warning("merchant account %s verifies nothing: %s", account.code, exc)
    _accounts[provider] = (stamp, now, pairs)
    return pairs


def _candidates(provider: str, headers, body: bytes) -> list:
    """The clients of the active merchant accounts that could have been sent this."""
    clients = []
    seen = set()
    for _, client in _active_accounts(provider):
        if id(client) not in seen:
            seen.add(id(client))
            clients.append(client)
    if provider == Provider.WECHAT:
        serial = {k.lower(): v for k, v in headers.items()}.get("wechatpay-serial", "")
        if not serial:
            raise NotifyRejected("missing_headers", "Wechatpay-Serial is missing")
        return [c for c in clients if c.knows_serial(serial)]
    app_id = AlipayClient.parse(body).get("app_id", "")
    return [c for c in clients if c.app_id == app_id]


def _queue_check(tx) -> tuple[list[int], bool, Decimal | None]:
    """Whether the inbox worker may settle `tx`, asked inside the inbox INSERT (`_insert_sql`)
    from these parameters: the order exists, of the provider of `tx`, not a window order (the
    cashier at the counter waits for it, and its shift is the cashier's, so it is settled at
    once), of a merchant account whose identifiers are those of `tx` (the first value: those
    accounts), and a payment is of the order's amount in CNY (the second: not a payment, any
    amount will do; the third: the amount, None where not CNY). What can change later (the
    order closed, its charges paid) is decided when it is settled."""
    ids = [
        account.pk
        for account, client in _active_accounts(tx.provider)
        if all(tx.merchant_ids.get(k, "") == v for k, v in client.expected_ids().items())
    ]
    amount = tx.amount if tx.currency == "CNY" else None
    return ids, not tx.paid, amount


def _verify(provider: str, headers, body: bytes):
    if len(body) > MAX_BODY:
        raise NotifyRejected("malformed", "body too large")
    if not body:
        raise NotifyRejected("malformed", "empty body")
    clients = _candidates(provider, headers, body)
    if not clients:
        raise NotifyRejected("unknown_key", "no merchant account knows this key or app")
    last: NotifyRejected | None = None
    for client in clients:
        try:
            return client.verify_notification(headers, body)
        except NotifyRejected as exc:
            last = exc
    raise last  # type: ignore[misc]


def _store(
    provider: str, headers, body: bytes, remote_addr: str, *, tx=None, rejected=None, queue=False
) -> tuple[InboxNotification, bool]:
    """Save the raw notification (autocommit: stored before acting). A verified one is
    `pending` (settled by this request), or with `queue` `queued` for the inbox worker where
    it names an order the worker may settle (`_queue_check`, asked inside the same
    statement). Returns (row, resend)."""
    row = InboxNotification(
        provider=provider,
        headers=_headers_to_keep(headers),
        body=_text(body[:MAX_BODY].decode("utf-8", errors="replace")),
        remote_addr=(remote_addr or "")[:45],
    )
    if rejected is not None:
        row.verdict = InboxNotification.Verdict.REJECTED
        row.reason = rejected.reason
        row.detail = _text(rejected.detail)[:255]
        row.claimed_event_id = _text(rejected.event_id)[:64]
        row.outcome = Outcome.REFUSED
        row.save()
        return row, False
    row.verdict = InboxNotification.Verdict.VERIFIED
    row.event_id = tx.event_id[:64]
    row.out_trade_no = tx.out_trade_no[:64]
    row.transaction_id = tx.transaction_id[:64]
    row.transaction = tx.as_json()
    row.outcome = Outcome.PENDING
    return _insert_or_count(row, tx if queue else None)


def _insert_or_count(row: InboxNotification, tx=None) -> tuple[InboxNotification, bool]:
    """INSERT the verified event, or, when (provider, event id) is stored already, count one
    more delivery: one statement either way (no savepoint, no second read). With `tx`, the
    outcome is `queued` where the order check of `_queue_check` holds, decided in the statement."""
    meta = InboxNotification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    ids, any_amount, amount = _queue_check(tx) if tx is not None else ([], False, None)
    # no account of these identifiers: no order passes the check
    if ids:
        merchant, merchant_params = any_of("o.merchant_id", ids)
        at = [f.name for f in fields].index("outcome")
        values[at : at + 1] = [
            tx.out_trade_no,
            tx.provider,
            PaymentOrder.Source.WINDOW,
            *merchant_params,
            any_amount,
            amount,
            Outcome.QUEUED,
            Outcome.PENDING,
        ]
        sql = _insert_sql(merchant)
    else:
        sql = _insert_sql("")
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk, outcome, order_id, deliveries = cursor.fetchone()
    row.pk, row.outcome, row.order_id, row.deliveries = pk, outcome, order_id, deliveries
    row._state.adding = False
    row._state.db = connection.alias
    return row, deliveries > 1


@lru_cache(maxsize=64)
def _insert_sql(merchant: str) -> str:
    """The inbox INSERT ... ON CONFLICT; with `merchant` (a condition on the order's merchant
    account) its outcome is `queued` where the order check holds, else `pending`."""
    meta = InboxNotification._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    table = quote(meta.db_table)
    placeholders = ["%s"] * len(fields)
    if merchant:
        placeholders[[f.name for f in fields].index("outcome")] = (
            f"(CASE WHEN EXISTS (SELECT 1 FROM {quote(PaymentOrder._meta.db_table)} o "  # noqa: S608
            f"WHERE o.out_trade_no = %s AND o.provider = %s AND o.source <> %s AND {merchant} "
            "AND (%s OR o.amount = %s)) THEN %s ELSE %s END)"
        )
    return (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(placeholders)}) "
        "ON CONFLICT (provider, event_id) WHERE event_id IS NOT NULL DO UPDATE SET "
        f"deliveries = {table}.deliveries + 1, last_received_at = EXCLUDED.last_received_at "
        "RETURNING id, outcome, order_id, deliveries"
    )


def notification_receive(
    *, provider: str, headers, body: bytes, remote_addr: str = ""
) -> tuple[int, str, str]:
    """Handle one notification; returns (HTTP status, content type, body) for the provider."""
    replies = REPLIES[provider]
    try:
        tx = _verify(provider, headers, body)
    except NotifyRejected as exc:
        _store(provider, headers, body, remote_addr, rejected=exc)
        log.warning("%s notification rejected (%s): %s", provider, exc.reason, exc.detail)
        return replies.reply_fail(exc.reason)
    row, resend = _store(
        provider, headers, body, remote_addr, tx=tx, queue=posting_mode() == WORKER
    )
    if row.outcome == Outcome.QUEUED or (resend and row.outcome in SETTLED_OK):
        # acknowledged once durably in the inbox (the worker posts it, `inbox_post`), or
        # settled by an earlier copy
        return replies.reply_ok()
    if resend and row.outcome == Outcome.REFUSED:
        return replies.reply_fail("refused")
    try:
        outcome = transaction_settle(tx=tx, inbox_id=row.pk)
    except Exception:
        log.exception("%s notification %s could not be settled", provider, tx.event_id)
        InboxNotification.objects.filter(
            pk=row.pk, outcome__in=[Outcome.PENDING, Outcome.QUEUED]
        ).update(outcome=Outcome.ERROR)
        status, ctype, text = replies.reply_fail("try again")
        return 500, ctype, text
    if outcome == Outcome.REFUSED:
        log.warning(
            "%s notification %s refused for order %s", provider, tx.event_id, tx.out_trade_no
        )
        return replies.reply_fail("refused")
    return replies.reply_ok()
