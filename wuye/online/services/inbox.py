"""The inbox worker: posts the notifications acknowledged before posting (`notify_posting`
"worker", see notify.py), in batches.

`inbox_post` claims up to `limit` queued notifications (acknowledged), oldest first, with
`FOR UPDATE SKIP LOCKED` (PostgreSQL) so that several workers share the work without waiting
on each other, and settles them in one transaction (`settle.transactions_settle`: one
statement locks the orders, the payments are written set-wise). Should the batch fail, each
notification is settled on its own, still under the claim; one that fails again is marked
`error` (the provider's resend or staff retry it). `inbox_work` runs it in a loop, for
`wuye online_post` or any process manager."""

import json
import logging
import signal
import threading
import time

from django.db import close_old_connections, connection, transaction

from ..models import InboxNotification, PaymentOrder
from ..providers import Transaction
from .settle import transaction_settle, transactions_settle

log = logging.getLogger(__name__)
Outcome = InboxNotification.Outcome


def _claim(limit: int, out_trade_no: str | None) -> list[tuple[Transaction, int]]:
    """Lock up to `limit` queued notifications (of one order, if given), skipping those
    another worker holds: [(transaction, inbox id)], oldest first. Only `queued` ones: a
    `pending` one is being settled by the request that brought it (a notification the order
    check refused, or "sync" mode), and taking it too could make the two wait on each other
    (inbox row, order) crosswise."""
    quote = connection.ops.quote_name
    skip = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    one = " AND out_trade_no = %s" if out_trade_no else ""
    sql = (
        f"SELECT id, {quote('transaction')} FROM {quote(InboxNotification._meta.db_table)} "  # noqa: S608
        f"WHERE verdict = %s AND outcome = %s AND {quote('transaction')} IS NOT NULL{one} "
        f"ORDER BY id LIMIT %s{skip}"
    )
    params = [InboxNotification.Verdict.VERIFIED, Outcome.QUEUED]
    params += [out_trade_no] if out_trade_no else []
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    claimed = []
    for pk, data in rows:
        if isinstance(data, str | bytes):
            data = json.loads(data)
        claimed.append((Transaction.from_json(data), pk))
    return claimed


def inbox_post(*, limit: int = 200, out_trade_no: str | None = None) -> int:
    """Settle up to `limit` queued notifications; returns how many were taken. With
    `out_trade_no`, only that order's: a page showing an order just paid calls this so the
    receipt is there at once, whether or not the worker got to it yet."""
    with transaction.atomic():
        claimed = _claim(limit, out_trade_no)
        if not claimed:
            return 0
        try:
            with transaction.atomic():
                transactions_settle(claimed)
            return len(claimed)
        except Exception:
            log.exception(
                "a batch of %d notifications failed; settling them one by one", len(claimed)
            )
        for tx, inbox_id in claimed:
            try:
                with transaction.atomic():
                    transaction_settle(tx=tx, inbox_id=inbox_id)
            except Exception:
                log.exception("%s notification %s could not be settled", tx.provider, tx.event_id)
                InboxNotification.objects.filter(pk=inbox_id, outcome=Outcome.QUEUED).update(
                    outcome=Outcome.ERROR
                )
    return len(claimed)


def order_news(order: PaymentOrder) -> PaymentOrder:
    """The order as its owner should see it now: a notification for it that was acknowledged
    but not yet posted by the inbox worker is posted first, so the receipt is there at once
    (the owner's order page and the app ask this)."""
    if order.status == PaymentOrder.Status.CREATED and inbox_post(out_trade_no=order.out_trade_no):
        order.refresh_from_db()
    return order


def inbox_work(
    *,
    batch: int = 200,
    idle_seconds: float = 0.05,
    stop: threading.Event | None = None,
    once: bool = False,
    handle_signals: bool = True,
) -> int:
    """Post from the inbox until `stop` is set (or SIGTERM / SIGINT arrive when run in the
    main thread and `handle_signals`: not inside a task worker, whose signals are its own),
    sleeping `idle_seconds` whenever nothing is queued; with `once`, until nothing is
    queued. Returns how many notifications were taken."""
    stop = stop or threading.Event()
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    done = 0
    rounds = 0
    while not stop.is_set():
        taken = inbox_post(limit=batch)
        done += taken
        rounds += 1
        if rounds % 100 == 0:
            close_old_connections()  # honour CONN_MAX_AGE and health checks
        if taken == 0:
            if once:
                break
            stop.wait(idle_seconds)
    return done


def inbox_lag() -> dict[str, float]:
    """How far the worker is behind: queued notifications and the age in seconds of the
    oldest (for monitoring)."""
    queued = InboxNotification.objects.filter(outcome=Outcome.QUEUED)
    oldest = queued.order_by("id").values_list("received_at", flat=True).first()
    age = 0.0
    if oldest is not None:
        age = max(0.0, time.time() - oldest.timestamp())
    return {"queued": float(queued.count()), "oldest_seconds": round(age, 3)}


def inbox_rejected_purge(*, now=None) -> int:
    """Forget rejected notifications (forged, probes, stale, malformed) older than
    `WUYE_PAY["rejected_days"]` (180): they are kept as evidence of what was sent, not for
    ever. Verified ones, the books' evidence, are never purged. Returns how many went."""
    from datetime import timedelta

    from django.utils import timezone

    from ..conf import pay_settings

    days = int(pay_settings()["rejected_days"])
    before = (now or timezone.now()) - timedelta(days=days)
    gone, _ = InboxNotification.objects.filter(
        verdict=InboxNotification.Verdict.REJECTED, received_at__lt=before
    ).delete()
    return gone
