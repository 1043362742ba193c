"""Racing notifications on PostgreSQL: eight copies of one notification at the same moment
give exactly one payment and one receipt (the order's row lock and UNIQUE constraints)."""

import pytest
from django.db import connection
from django.test import Client

from wuye.online.models import InboxNotification, PaymentOrder
from wuye.payments.models import Payment, Receipt
from wuye.testing import race

from .conftest import now, post_wechat, wechat_notification, wechat_tx

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_eight_copies_of_one_notification_post_one_payment_and_one_receipt(
    wechat_keys, wechat_account, make_order
):
    # given an order and one signed notification of its payment
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when eight copies arrive at the same moment
    statuses = race(8, lambda i: post_wechat(Client(), headers, body).status_code)
    # then all are acknowledged, and there is one payment and one receipt
    assert statuses == [200] * 8
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "paid" and order.payment_id is not None
    row = InboxNotification.objects.get()
    assert row.deliveries == 8 and row.outcome == "posted"


def test_eight_resends_with_fresh_signatures_post_once(wechat_keys, wechat_account, make_order):
    # given eight resends of one event, each signed anew (new timestamp and nonce)
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys)
    copies = [
        wechat_notification(wechat_keys, tx, event_id=f"EV-{i % 2}", timestamp=now() - i)
        for i in range(8)
    ]
    statuses = race(8, lambda i: post_wechat(Client(), *copies[i]).status_code)
    assert statuses == [200] * 8
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1
    assert PaymentOrder.objects.get(pk=order.pk).status == "paid"
