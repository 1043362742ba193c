"""What a review of the notify endpoints and the window found: bodies that used to crash the
endpoint (a 500 with nothing stored), one misconfigured merchant taking every estate's
notifications down, and a counter QR paid after its shift was closed."""

import json

import pytest

from wuye.online.models import InboxNotification, MerchantAccount, PaymentOrder
from wuye.payments.models import Payment

from .conftest import (
    post_alipay,
    post_wechat,
    public_part,
    wechat_notification,
    wechat_tx,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        b"charset=idna&a=%FF",  # a codec that raises UnicodeError, not LookupError
        b"charset=punycode&a=%FF",
        b"charset=utf-16&sign=x",  # a real codec, but not one Alipay sends
        b"charset=nonsense&sign=x",
    ],
)
def test_an_alipay_body_in_a_strange_charset_is_refused_not_a_crash(client, alipay_account, body):
    response = post_alipay(client, body)
    assert (response.status_code, response.content) == (400, b"fail")
    row = InboxNotification.objects.get()
    assert (row.verdict, row.reason) == ("rejected", "malformed")


@pytest.mark.parametrize("timestamp", ["9" * 400, "１７００００００００", "-1700000000", "1e9"])
def test_a_wechat_timestamp_that_is_no_number_of_seconds_is_refused(
    client, wechat_keys, wechat_account, make_order, timestamp
):
    # given a notification whose Wechatpay-Timestamp is huge, full-width, negative or a float
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    headers["Wechatpay-Timestamp"] = timestamp
    # when it arrives, then WeChat gets its error body, nothing is posted
    response = post_wechat(client, headers, body)
    assert response.status_code == 400 and json.loads(response.content)["code"] == "FAIL"
    assert InboxNotification.objects.get().reason == "malformed"
    assert not Payment.objects.exists()


def test_one_misconfigured_merchant_does_not_stop_the_others(
    client, settings, pay_settings, wechat_keys, wechat_account, make_order, other_estate
):
    # given another estate's WeChat account whose configuration lost its mchid
    broken = {k: v for k, v in public_part(wechat_keys).items() if k != "mchid"}
    settings.WUYE_PAY = {
        **pay_settings,
        "merchants": {**pay_settings["merchants"], "cz-wechat": broken},
    }
    MerchantAccount.objects.create(
        estate=other_estate, provider="wechat", code="cz-wechat", name="broken", is_default=True
    )
    # when a notification for this estate's order arrives
    order = make_order(wechat_account)
    response = post_wechat(client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys)))
    # then it is posted as usual
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"


def test_an_alipay_app_without_its_seller_id_verifies_nothing(
    client, settings, pay_settings, alipay_keys, alipay_account, make_order
):
    # given the Alipay account configured without the seller_id every notification is checked
    # against
    from wuye.online.sandbox import build_alipay_notification

    from .conftest import alipay_params

    config = {k: v for k, v in public_part(alipay_keys).items() if k != "seller_id"}
    settings.WUYE_PAY = {**pay_settings, "merchants": {"hy-alipay": config}}
    order = make_order(alipay_account, kind="wap")
    _, body = build_alipay_notification(alipay_keys, alipay_params(order, alipay_keys))
    # when a genuine notification arrives, then no account may verify it
    assert post_alipay(client, body).status_code == 400
    assert InboxNotification.objects.get().reason == "unknown_key"
    assert not Payment.objects.exists()


def test_a_counter_qr_paid_after_its_shift_was_closed_is_an_online_payment(
    client, wechat_keys, wechat_account, make_order, cashier, estate
):
    # given a counter QR of a cashier's shift, and the shift closed before the owner paid
    from wuye.payments.services import shift_close, shift_open

    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    order = make_order(wechat_account)
    PaymentOrder.objects.filter(pk=order.pk).update(source="window", cashier=cashier, shift=shift)
    shift_close(actor=cashier, shift=shift, counted_cash="0", counted_pos="0")
    # when the notification arrives
    response = post_wechat(client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys)))
    # then the money is in the books as an online payment, the closed shift untouched
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    assert (order.payment.source, order.payment.shift_id) == ("online", None)
    assert not Payment.objects.filter(shift=shift).exists()


def test_old_rejected_notifications_are_forgotten_verified_ones_never(
    client, wechat_keys, wechat_account, make_order
):
    # given a forged notification and a genuine one, both received 200 days ago
    from datetime import timedelta

    from django.utils import timezone

    from wuye.online.tasks import purge_rejected

    order = make_order(wechat_account)
    forged = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys), forge=True)
    assert post_wechat(client, *forged).status_code == 400
    notification = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    assert post_wechat(client, *notification).status_code == 200
    InboxNotification.objects.update(received_at=timezone.now() - timedelta(days=200))
    # when the daily job runs
    assert purge_rejected.call() == {"purged": 1}
    # then the forged one is gone, the genuine one (the books' evidence) stays
    assert list(InboxNotification.objects.values_list("verdict", flat=True)) == ["verified"]


def test_a_counter_qr_whose_shift_closes_while_it_is_posted_is_an_online_payment(
    client, wechat_keys, wechat_account, make_order, cashier, estate, monkeypatch
):
    # given a counter QR whose shift is closed in the instant after it was found open
    from wuye.online.services import settle
    from wuye.payments.services import shift_close, shift_open

    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    order = make_order(wechat_account)
    PaymentOrder.objects.filter(pk=order.pk).update(source="window", cashier=cashier, shift=shift)
    shift_close(actor=cashier, shift=shift, counted_cash="0", counted_pos="0")
    monkeypatch.setattr(settle, "_into_shift", lambda order: True)  # it was open when asked
    # when the notification is posted
    response = post_wechat(client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys)))
    # then the money is an online payment, not an exception
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.payment.source, order.payment.shift_id) == ("online", None)
