"""Orders without news: query the provider actively before they expire, and expire them
(closing them at the provider first) when their time is up. Run by the task `sweep_orders`
every minute or by `wuye online_sweep`."""

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..conf import pay_settings
from ..models import PaymentOrder
from ..providers import ProviderError, client_for
from .orders import order_finish
from .settle import transaction_settle

log = logging.getLogger(__name__)


def order_query(*, order: PaymentOrder, now: datetime | None = None) -> PaymentOrder:
    """Ask the provider about one open order; settle it if paid, expire it if its time is up
    and the provider agrees to close it."""
    now = now or timezone.now()
    if order.status != PaymentOrder.Status.CREATED:
        return order
    client = client_for(order.merchant)
    tx = client.query(out_trade_no=order.out_trade_no)
    PaymentOrder.objects.filter(pk=order.pk).update(last_queried_at=now)
    if tx is not None and tx.paid:
        outcome = transaction_settle(tx=tx, verified_by="query")
        if outcome == "refused" and now >= order.expires_at:
            # paid, but not as the order says (a wrong amount): the money waits in the
            # exception queue; the order is over, or it would be asked about every minute
            order_finish(order=order, status=PaymentOrder.Status.EXPIRED, now=now)
    elif now >= order.expires_at:
        try:
            if tx is not None:
                client.close(out_trade_no=order.out_trade_no)
        except ProviderError:
            again = client.query(out_trade_no=order.out_trade_no)
            if again is not None and again.paid:
                transaction_settle(tx=again, verified_by="query")
                order.refresh_from_db()
                return order
            raise
        order_finish(order=order, status=PaymentOrder.Status.EXPIRED, now=now)
    order.refresh_from_db()
    return order


def orders_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Query the open orders that have waited long enough; returns counts by resulting state."""
    now = now or timezone.now()
    wait = timedelta(seconds=int(pay_settings()["query_after_seconds"]))
    due = (
        PaymentOrder.objects.filter(status=PaymentOrder.Status.CREATED, created_at__lte=now - wait)
        .filter(Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - wait))
        .select_related("merchant")
        .order_by("created_at")[:limit]
    )
    counts: dict[str, int] = {}
    for order in due:
        try:
            result = order_query(order=order, now=now).status
        except ProviderError as exc:
            log.warning("order %s: query failed: %s", order.out_trade_no, exc)
            result = "error"
        counts[result] = counts.get(result, 0) + 1
    return counts
