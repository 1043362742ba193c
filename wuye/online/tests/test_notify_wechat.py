"""WeChat Pay v3 notifications at /pay/notify/wechat: built with the providers' own signing
(RSA SHA256 over `timestamp\\nnonce\\nbody\\n`, AES-256-GCM resource) from generated keys.
A paid order is posted exactly once; anything forged, stale, malformed, for an unknown
order or a wrong amount is refused with WeChat's error body and posts nothing."""

import json

import pytest

from wuye.online.models import InboxNotification, PaymentException, PaymentOrder
from wuye.payments.models import Payment, Receipt

from .conftest import now, post_wechat, wechat_notification, wechat_tx

pytestmark = pytest.mark.django_db


def test_a_paid_order_is_posted_once_with_its_receipt(
    client, wechat_keys, wechat_account, make_order
):
    # given an order for two months of fees
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when WeChat Pay notifies that it was paid
    response = post_wechat(client, headers, body)
    # then it is acknowledged, paid, posted to both charges and receipted
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.PAID
    payment = order.payment
    assert payment.channel == "wechat" and payment.source == "online"
    assert payment.amount == order.amount == payment.allocated
    assert sorted(a.charge_id for a in payment.allocations.all()) == sorted(
        line.charge_id for line in order.lines.all()
    )
    assert Receipt.objects.filter(payment=payment).count() == 1
    inbox = InboxNotification.objects.get()
    assert (inbox.verdict, inbox.outcome, inbox.event_id) == (
        "verified",
        "posted",
        "EV-2026031000001",
    )
    assert inbox.headers["Wechatpay-Serial"] == wechat_keys["public_key_id"]
    # and the inbox keeps the raw body and every header WeChat sent, as the evidence
    assert inbox.body == body.decode()
    for name in ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"):
        assert inbox.headers[name] == headers[name]
    assert inbox.headers["Content-Type"] == "application/json"


def test_the_inbox_keeps_no_credentials_a_proxy_added(
    client, wechat_keys, wechat_account, make_order
):
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    client.cookies["sessionid"] = "abc"
    post_wechat(client, {**headers, "Authorization": "Basic c2VjcmV0", "X-Trace": "t-1"}, body)
    kept = InboxNotification.objects.get().headers
    assert kept["X-Trace"] == "t-1"
    assert not {"Authorization", "Cookie"} & set(kept)


def test_the_platform_certificate_mode_verifies_too(
    client, wechat_keys, wechat_account, make_order
):
    # given a merchant configured with both the platform certificate and the public key
    order = make_order(wechat_account)
    # when the notification is signed with the platform certificate's key (serial = cert serial)
    headers, body = wechat_notification(
        wechat_keys, wechat_tx(order, wechat_keys), platform_cert=True
    )
    response = post_wechat(client, headers, body)
    # then it is verified and posted
    assert headers["Wechatpay-Serial"] == wechat_keys["_platform_serial"]
    assert response.status_code == 200
    assert PaymentOrder.objects.get(pk=order.pk).status == "paid"


def test_resends_and_other_events_of_the_same_payment_post_nothing_more(
    client, wechat_keys, wechat_account, make_order
):
    # given a paid and posted order
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys)
    post_wechat(client, *wechat_notification(wechat_keys, tx))
    # when WeChat resends the same event with a new timestamp and signature, and once more
    # under another event id
    again = post_wechat(client, *wechat_notification(wechat_keys, tx, timestamp=now() - 30))
    other = post_wechat(client, *wechat_notification(wechat_keys, tx, event_id="EV-OTHER"))
    # then both are acknowledged and there is still one payment and one receipt
    assert again.status_code == other.status_code == 200
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1
    first = InboxNotification.objects.get(event_id="EV-2026031000001")
    assert first.deliveries == 2 and first.outcome == "posted"
    assert InboxNotification.objects.get(event_id="EV-OTHER").outcome == "duplicate"


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("forged", "bad_signature"),
        ("probe", "bad_signature"),
        ("stale", "stale_timestamp"),
        ("future", "stale_timestamp"),
        ("truncated", "bad_signature"),
        ("unknown_serial", "unknown_key"),
        ("no_signature", "missing_headers"),
        ("not_utf8", "malformed"),
        ("wrong_apiv3_key", "decrypt_failed"),
    ],
)
def test_forged_stale_or_malformed_notifications_are_refused(
    client, wechat_keys, wechat_account, make_order, tamper, reason, caplog
):
    # given an order and a notification that has been tampered with
    order = make_order(wechat_account)
    keys_ = dict(wechat_keys)
    kwargs = {}
    if tamper == "stale":
        kwargs["timestamp"] = now() - 301
    if tamper == "future":
        kwargs["timestamp"] = now() + 400
    if tamper == "wrong_apiv3_key":
        keys_["apiv3_key"] = "x" * 32
    headers, body = wechat_notification(keys_, wechat_tx(order, wechat_keys), **kwargs)
    if tamper == "forged":
        body = body.replace(b'"summary":"', b'"summary":"X')
    if tamper == "probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"][19:]
    if tamper == "truncated":
        body = body[: len(body) // 2]
    if tamper == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000000"
    if tamper == "no_signature":
        del headers["Wechatpay-Signature"]
    if tamper == "not_utf8":
        body = b"\xff\xfe" + body
    # when it arrives
    response = post_wechat(client, headers, body)
    # then WeChat gets its error body, nothing is posted, and the inbox says why
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "FAIL"
    assert Payment.objects.count() == 0
    assert PaymentOrder.objects.get(pk=order.pk).status == "created"
    row = InboxNotification.objects.get()
    assert (row.verdict, row.reason) == ("rejected", reason)
    assert row.event_id is None
    # and the log says which provider and why, for whoever watches the logs
    warnings = [r.getMessage() for r in caplog.records if r.name == "wuye.online.services.notify"]
    assert warnings == [f"wechat notification rejected ({reason}): {row.detail}"]


def test_a_signed_but_malformed_body_is_refused(client, wechat_keys, wechat_account):
    # given a correctly signed body that is not a v3 notification
    from wechatpayv3.utils import load_private_key, rsa_sign

    body = '{"id": "EV-1", "resource": "nope"'
    ts, nonce = str(now()), "abc"
    signature = rsa_sign(
        load_private_key(wechat_keys["_pubkey_private_key"]), f"{ts}\n{nonce}\n{body}\n"
    )
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": wechat_keys["public_key_id"],
    }
    # when it arrives, then it is refused as malformed
    response = post_wechat(client, headers, body.encode())
    assert response.status_code == 400
    assert InboxNotification.objects.get().reason == "malformed"


def test_an_empty_or_get_request_never_crashes(client, wechat_account):
    assert post_wechat(client, {}, b"").status_code == 400
    assert client.get("/pay/notify/wechat").status_code == 405


def test_a_wrong_amount_is_recorded_and_queued_not_posted(
    client, wechat_keys, wechat_account, make_order
):
    # given an order of 501.20
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys, amount={"total": 100, "currency": "CNY"})
    # when a validly signed notification says 1.00 was paid
    response = post_wechat(client, *wechat_notification(wechat_keys, tx))
    # then it is refused, nothing is posted, and the money waits in the exception queue
    assert response.status_code == 400
    assert Payment.objects.count() == 0
    item = PaymentException.objects.get()
    assert (item.reason, item.amount) == ("amount_mismatch", 1)
    assert InboxNotification.objects.get().outcome == "refused"


def test_a_foreign_currency_is_refused(client, wechat_keys, wechat_account, make_order):
    order = make_order(wechat_account)
    amount = {"total": int(order.amount * 100), "currency": "USD"}
    response = post_wechat(
        client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys, amount=amount))
    )
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_an_unknown_order_is_refused_and_queued(client, wechat_keys, wechat_account, make_order):
    # given a notification for an order we never made
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys, out_trade_no="HY999999999999")
    # when it arrives, then it is refused, and the money is queued for a refund
    response = post_wechat(client, *wechat_notification(wechat_keys, tx))
    assert response.status_code == 400
    assert Payment.objects.count() == 0
    assert PaymentException.objects.get().reason == "unknown_order"


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_another_merchants_payment_is_refused(
    client, wechat_keys, wechat_account, make_order, field
):
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys, **{field: "1900000000"})
    response = post_wechat(client, *wechat_notification(wechat_keys, tx))
    assert response.status_code == 400
    assert Payment.objects.count() == 0
    assert PaymentException.objects.get().reason == "merchant_mismatch"


def test_money_for_a_closed_order_goes_to_the_exception_queue(
    client, wechat_keys, wechat_account, make_order
):
    # given an order the owner closed
    order = make_order(wechat_account, status="closed")
    # when WeChat says it was paid all the same
    response = post_wechat(client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys)))
    # then WeChat is told we have it, nothing is posted, and staff see it for refund or credit
    assert response.status_code == 200
    assert Payment.objects.count() == 0
    item = PaymentException.objects.get()
    assert (item.reason, item.status, item.order_id) == ("order_closed", "open", order.pk)


def test_a_not_paid_state_is_acknowledged_without_posting(
    client, wechat_keys, wechat_account, make_order
):
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys, trade_state="NOTPAY")
    response = post_wechat(client, *wechat_notification(wechat_keys, tx))
    assert response.status_code == 200
    assert Payment.objects.count() == 0
    assert InboxNotification.objects.get().outcome == "not_paid"


def test_charges_settled_at_the_window_meanwhile_keep_the_rest_as_prepayment(
    client, wechat_keys, wechat_account, make_order, charges
):
    # given an order for two months, one of which was paid at the window meanwhile
    from wuye.billing.models import Charge

    order = make_order(wechat_account)
    Charge.objects.filter(pk=charges[0].pk).update(status="paid", outstanding=0)
    # when the online payment arrives
    post_wechat(client, *wechat_notification(wechat_keys, wechat_tx(order, wechat_keys)))
    # then the open month is paid and the rest kept as the owner's prepayment
    payment = PaymentOrder.objects.get(pk=order.pk).payment
    assert payment.allocated == charges[1].amount
    assert payment.prepaid == order.amount - charges[1].amount
