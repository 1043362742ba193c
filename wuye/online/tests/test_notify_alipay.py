"""Alipay asynchronous notifications at /pay/notify/alipay: RSA2 over the sorted parameters
(without sign and sign_type), signed with Alipay's key made in the test. Only TRADE_SUCCESS
and TRADE_FINISHED are paid, amounts are in yuan, and the reply is exactly `success`."""

from decimal import Decimal

import pytest

from wuye.online.models import InboxNotification, PaymentException, PaymentOrder
from wuye.online.sandbox import build_alipay_notification
from wuye.payments.models import Payment, Receipt

from .conftest import alipay_params, post_alipay

pytestmark = pytest.mark.django_db


def test_trade_success_posts_once_and_the_reply_is_exactly_success(
    client, alipay_keys, alipay_account, make_order
):
    # given an order paid in Alipay
    order = make_order(alipay_account, kind="wap")
    _, body = build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys))
    # when Alipay notifies (and, not hearing back in time, notifies again)
    first = post_alipay(client, body)
    second = post_alipay(client, body)
    # then the reply is exactly "success" and one payment with one receipt is posted
    assert first.content == b"success" and second.content == b"success"
    assert first["Content-Type"].startswith("text/plain")
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.channel == "alipay"
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1
    assert InboxNotification.objects.get().deliveries == 2


def test_trade_finished_after_success_posts_nothing_more(
    client, alipay_keys, alipay_account, make_order
):
    order = make_order(alipay_account, kind="wap")
    post_alipay(
        client, build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys))[1]
    )
    finished = alipay_params(order, alipay_keys, trade_status="TRADE_FINISHED", notify_id="n-2")
    response = post_alipay(client, build_alipay_notification(alipay_keys, finished)[1])
    assert response.content == b"success"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED"])
def test_states_that_are_not_paid_post_nothing(
    client, alipay_keys, alipay_account, make_order, status
):
    order = make_order(alipay_account, kind="wap")
    params = alipay_params(order, alipay_keys, trade_status=status)
    response = post_alipay(client, build_alipay_notification(alipay_keys, params)[1])
    assert response.content == b"success"
    assert Payment.objects.count() == 0
    assert PaymentOrder.objects.get(pk=order.pk).status == "created"


def test_a_forged_signature_is_refused(client, alipay_keys, alipay_account, make_order):
    order = make_order(alipay_account, kind="wap")
    _, body = build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys), forge=True)
    response = post_alipay(client, body)
    assert response.status_code == 400 and response.content == b"fail"
    assert Payment.objects.count() == 0
    assert InboxNotification.objects.get().reason == "bad_signature"


def test_a_changed_parameter_breaks_the_signature(client, alipay_keys, alipay_account, make_order):
    order = make_order(alipay_account, kind="wap")
    _, body = build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys))
    response = post_alipay(client, body.replace(b"total_amount=501.20", b"total_amount=1.00"))
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_a_wrong_total_amount_in_yuan_is_refused_and_queued(
    client, alipay_keys, alipay_account, make_order
):
    # given an order of 501.20 yuan; Alipay's amounts are in yuan, not fen
    order = make_order(alipay_account, kind="wap")
    params = alipay_params(order, alipay_keys, total_amount="50120")
    response = post_alipay(client, build_alipay_notification(alipay_keys, params)[1])
    assert response.status_code == 400 and response.content == b"fail"
    assert Payment.objects.count() == 0
    item = PaymentException.objects.get()
    assert (item.reason, item.amount) == ("amount_mismatch", Decimal("50120"))


def test_another_seller_is_refused(client, alipay_keys, alipay_account, make_order):
    order = make_order(alipay_account, kind="wap")
    params = alipay_params(order, alipay_keys, seller_id="2088000000000999")
    response = post_alipay(client, build_alipay_notification(alipay_keys, params)[1])
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_an_unknown_app_id_is_refused(client, alipay_keys, alipay_account, make_order):
    order = make_order(alipay_account, kind="wap")
    params = alipay_params(order, alipay_keys, app_id="2021000000009999")
    response = post_alipay(client, build_alipay_notification(alipay_keys, params)[1])
    assert response.status_code == 400
    assert InboxNotification.objects.get().reason == "unknown_key"


@pytest.mark.parametrize("body", [b"", b"sign=abc", b"\xff\xfe\x00", b"%%%&&&==="])
def test_malformed_bodies_never_crash(client, alipay_account, body):
    response = post_alipay(client, body)
    assert response.status_code == 400 and response.content == b"fail"
    assert Payment.objects.count() == 0


def test_an_unknown_order_is_refused_and_the_money_queued(
    client, alipay_keys, alipay_account, make_order
):
    # given a genuine notification for an order we never placed
    order = make_order(alipay_account, kind="wap")
    params = alipay_params(order, alipay_keys, out_trade_no="HY-NEVER-PLACED")
    # when it arrives, then Alipay hears "fail", nothing is posted, the money waits for staff
    response = post_alipay(client, build_alipay_notification(alipay_keys, params)[1])
    assert (response.status_code, response.content) == (400, b"fail")
    assert Payment.objects.count() == 0
    assert PaymentException.objects.get().reason == "unknown_order"


def test_a_truncated_notification_is_refused(client, alipay_keys, alipay_account, make_order):
    order = make_order(alipay_account, kind="wap")
    _, body = build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys))
    response = post_alipay(client, body[: len(body) // 2])
    assert (response.status_code, response.content) == (400, b"fail")
    assert Payment.objects.count() == 0
    assert InboxNotification.objects.get().verdict == "rejected"
