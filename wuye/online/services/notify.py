"""The notify endpoints' work: verify, store in the inbox, then act.

Two ways to act (`WUYE_PAY["notify_posting"]`): "sync" (the default) posts the payment before
replying; "worker" replies once the verified notification is durably in the inbox and names
an order it may settle (`settle.order_check`: the order exists, of this provider and
merchant, the amount right), and the inbox worker (`inbox.inbox_post`) posts the queued
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

from django.db import connection

from wuye.payments.services._common import columns, select_models

from ..conf import generation, pay_settings
from ..models import InboxNotification, MerchantAccount, Provider
from ..providers import NotifyRejected, ProviderError, client_for
from ..providers.alipay import AlipayClient
from ..providers.wechat import WechatClient
from .settle import order_check, transaction_settle

log = logging.getLogger(__name__)
Outcome = InboxNotification.Outcome
SYNC, WORKER = "sync", "worker"
# a resend of these needs nothing more in "worker" mode (an exception is queued already)
ACKNOWLEDGED = (
    Outcome.QUEUED,
    Outcome.PENDING,
    Outcome.POSTED,
    Outcome.DUPLICATE,
    Outcome.NOT_PAID,
    Outcome.EXCEPTION,
)
REPLIES = {Provider.WECHAT: WechatClient, Provider.ALIPAY: AlipayClient}
MAX_BODY = 64 * 1024
KEPT_HEADERS = ("content-type", "content-length", "user-agent", "request-id")


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
    return {
        _text(k): _text(v)[:500]
        for k, v in headers.items()
        if k.lower().startswith("wechatpay-") or k.lower() in KEPT_HEADERS
    }


def _active_accounts(provider: str) -> list[MerchantAccount]:
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {columns(MerchantAccount, 'm')} FROM {quote(MerchantAccount._meta.db_table)} m "  # noqa: S608
        "WHERE m.provider = %s AND m.is_active ORDER BY m.id"
    )
    return [row[0] for row in select_models(sql, [provider], [MerchantAccount])]


def _candidates(provider: str, headers, body: bytes) -> list:
    """The clients of the active merchant accounts that could have been sent this."""
    clients = []
    seen = set()
    for account in _active_accounts(provider):
        try:
            client = client_for(account)
        except ProviderError:
            continue
        if id(client) in seen:
            continue
        seen.add(id(client))
        clients.append(client)
    if provider == Provider.WECHAT:
        serial = {k.lower(): v for k, v in headers.items()}.get("wechatpay-serial", "")
        if not serial:
            raise NotifyRejected("missing_headers", "Wechatpay-Serial is missing")
        return [c for c in clients if c.knows_serial(serial)]
    app_id = AlipayClient.parse(body).get("app_id", "")
    return [c for c in clients if c.app_id == app_id]


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
    provider: str, headers, body: bytes, remote_addr: str, *, tx=None, rejected=None, queued=False
) -> tuple[InboxNotification, bool]:
    """Save the raw notification (autocommit: stored before acting), `queued` for the inbox
    worker or else `pending` (settled by this request). Returns (row, resend)."""
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
    row.outcome = Outcome.QUEUED if queued else Outcome.PENDING
    return _insert_or_count(row)


def _insert_or_count(row: InboxNotification) -> tuple[InboxNotification, bool]:
    """INSERT the verified event, or, when (provider, event id) is stored already, count one
    more delivery: one statement either way (no savepoint, no second read)."""
    meta = InboxNotification._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    table = quote(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        "ON CONFLICT (provider, event_id) WHERE event_id IS NOT NULL DO UPDATE SET "
        f"deliveries = {table}.deliveries + 1, last_received_at = EXCLUDED.last_received_at "
        "RETURNING id, outcome, order_id, deliveries"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk, outcome, order_id, deliveries = cursor.fetchone()
    row.pk, row.outcome, row.order_id, row.deliveries = pk, outcome, order_id, deliveries
    row._state.adding = False
    row._state.db = connection.alias
    return row, deliveries > 1


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
    if posting_mode() == WORKER and order_check(tx):
        # Acknowledged once durably in the inbox; the worker posts it (`inbox_post`).
        row, resend = _store(provider, headers, body, remote_addr, tx=tx, queued=True)
        if not resend or row.outcome in ACKNOWLEDGED:
            return replies.reply_ok()  # queued, or settled by an earlier copy
    else:
        row, resend = _store(provider, headers, body, remote_addr, tx=tx)
    if resend and row.outcome in (
        Outcome.POSTED,
        Outcome.DUPLICATE,
        Outcome.NOT_PAID,
        Outcome.QUEUED,  # the inbox worker's
    ):
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
