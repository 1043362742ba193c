"""Acknowledging before posting (`WUYE_PAY["notify_posting"] = "worker"`): a verified
notification naming a payable order is answered once it is in the inbox, and the inbox worker
posts it, exactly once, in batches. What the order check refuses is still refused at once."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client

from wuye.online.models import InboxNotification, PaymentException, PaymentOrder
from wuye.online.services import inbox_lag, inbox_post, posting_mode
from wuye.payments.models import Payment, Receipt
from wuye.payments.services import payment_take
from wuye.testing import race

from .conftest import post_wechat, wechat_notification, wechat_tx


@pytest.fixture
def worker_mode(pay_settings, settings):
    settings.WUYE_PAY = {**pay_settings, "notify_posting": "worker"}
    assert posting_mode() == "worker"
    return settings.WUYE_PAY


@pytest.mark.django_db
def test_a_notification_is_acknowledged_then_posted_once_by_the_worker(
    worker_mode, client, wechat_keys, wechat_account, make_order
):
    # given an order and its signed notification
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when it arrives
    response = post_wechat(client, headers, body)
    # then it is acknowledged and waits in the inbox, nothing posted yet
    assert response.status_code == 200
    row = InboxNotification.objects.get()
    assert (row.outcome, row.settled_at) == ("queued", None)
    assert row.transaction["out_trade_no"] == order.out_trade_no
    assert not Payment.objects.exists()
    assert inbox_lag()["queued"] == 1
    # when the worker runs
    assert inbox_post() == 1
    # then the order is paid with one payment and its receipt, the notification settled
    order.refresh_from_db()
    row.refresh_from_db()
    assert order.status == "paid" and order.payment.receipt is not None
    assert row.outcome == "posted" and row.order_id == order.pk and row.settled_at is not None
    # and a resend is acknowledged without a second posting
    assert post_wechat(client, headers, body).status_code == 200
    assert inbox_post() == 0
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1


@pytest.mark.django_db
def test_the_page_of_a_paid_order_posts_its_notification_without_waiting_for_the_worker(
    worker_mode, client, wechat_keys, wechat_account, make_order, charges
):
    # given two acknowledged notifications, neither posted yet
    mine = make_order(wechat_account, charge_list=[charges[0]])
    other = make_order(wechat_account, charge_list=[charges[1]])
    for order, event in ((mine, "EV-MINE"), (other, "EV-OTHER")):
        headers, body = wechat_notification(
            wechat_keys, wechat_tx(order, wechat_keys), event_id=event
        )
        assert post_wechat(client, headers, body).status_code == 200
    # when the owner's order page asks for its own order
    assert inbox_post(out_trade_no=mine.out_trade_no) == 1
    # then that order has its receipt now, the other still waits for the worker
    mine.refresh_from_db()
    assert mine.status == "paid" and mine.payment.receipt.number == 1
    assert PaymentOrder.objects.get(pk=other.pk).status == "created"
    assert inbox_post() == 1


@pytest.mark.django_db
def test_a_window_order_is_posted_at_once_into_the_cashiers_shift(
    worker_mode, client, wechat_keys, wechat_account, make_order, cashier, estate
):
    # given the counter QR of a cashier's open shift
    from wuye.payments.services import shift_open

    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    order = make_order(wechat_account)
    PaymentOrder.objects.filter(pk=order.pk).update(source="window", cashier=cashier, shift=shift)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when its notification arrives
    assert post_wechat(client, headers, body).status_code == 200
    # then the cashier sees the payment now, in the shift, without the worker
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.shift_id == shift.pk
    assert InboxNotification.objects.get().outcome == "posted"
    assert inbox_post() == 0


@pytest.mark.django_db
def test_a_wrong_amount_is_refused_at_once_and_queued(
    worker_mode, client, wechat_keys, wechat_account, make_order
):
    # given a validly signed notification that paid one yuan less than the order
    order = make_order(wechat_account)
    tx = wechat_tx(order, wechat_keys, amount={"total": 50020, "currency": "CNY"})
    # when it arrives
    response = post_wechat(client, *wechat_notification(wechat_keys, tx))
    # then it is refused as in the synchronous mode, the money queued, nothing left pending
    assert response.status_code == 400
    assert PaymentException.objects.get().reason == "amount_mismatch"
    assert InboxNotification.objects.get().outcome == "refused"
    assert inbox_post() == 0 and not Payment.objects.exists()


@pytest.mark.django_db
def test_an_unknown_order_is_refused_at_once(worker_mode, client, wechat_keys, wechat_account):
    # given a notification for an order we never placed
    never = SimpleNamespace(out_trade_no="HY-NEVER-PLACED", pk=1, amount=Decimal("100.00"))
    tx = wechat_tx(never, wechat_keys)
    # when it arrives, then it is refused and queued
    assert post_wechat(client, *wechat_notification(wechat_keys, tx)).status_code == 400
    assert PaymentException.objects.get().reason == "unknown_order"


@pytest.mark.django_db
def test_one_batch_posts_several_orders_and_a_second_event_is_a_duplicate(
    worker_mode, client, wechat_keys, wechat_account, make_order, charges
):
    # given two orders, and three notifications: A, B, and A again under another event id
    first = make_order(wechat_account, charge_list=[charges[0]])
    second = make_order(wechat_account, charge_list=[charges[1]])
    sent = [
        wechat_notification(wechat_keys, wechat_tx(first, wechat_keys), event_id="EV-A1"),
        wechat_notification(wechat_keys, wechat_tx(second, wechat_keys), event_id="EV-B1"),
        wechat_notification(wechat_keys, wechat_tx(first, wechat_keys), event_id="EV-A2"),
    ]
    assert [post_wechat(client, h, b).status_code for h, b in sent] == [200, 200, 200]
    # when the worker takes them in one batch
    assert inbox_post(limit=10) == 3
    # then each order is paid once, the second news of A is its duplicate
    outcomes = dict(InboxNotification.objects.values_list("event_id", "outcome"))
    assert outcomes == {"EV-A1": "posted", "EV-B1": "posted", "EV-A2": "duplicate"}
    assert Payment.objects.count() == 2 and Receipt.objects.count() == 2
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == [1, 2]
    for order, charge in ((first, charges[0]), (second, charges[1])):
        order.refresh_from_db()
        charge.refresh_from_db()
        assert order.status == "paid" and charge.status == "paid" and charge.outstanding == 0


@pytest.mark.django_db
def test_what_changed_after_the_acknowledgement_goes_to_the_exception_queue(
    worker_mode, client, wechat_keys, wechat_account, make_order, charges, cashier, estate
):
    # given two acknowledged notifications: the first order is closed meanwhile, the second
    # order's charge is paid at the window meanwhile; and a third, untouched
    from wuye.payments.services import shift_open

    closed = make_order(wechat_account, charge_list=[charges[0]])
    settled = make_order(wechat_account, charge_list=[charges[1]])
    for order, event in ((closed, "EV-C"), (settled, "EV-S")):
        headers, body = wechat_notification(
            wechat_keys, wechat_tx(order, wechat_keys), event_id=event
        )
        assert post_wechat(client, headers, body).status_code == 200
    PaymentOrder.objects.filter(pk=closed.pk).update(status="closed")
    shift_open(actor=cashier, estate=estate, float_amount="0")
    payment_take(
        actor=cashier,
        party=charges[1].party,
        amount="250.60",
        channel="cash",
        charge_ids=[charges[1].pk],
    )
    # when the worker runs
    assert inbox_post() == 2
    # then neither is posted online: both are queued for staff, and the notifications say so
    reasons = set(PaymentException.objects.values_list("reason", flat=True))
    assert reasons == {"order_closed", "charges_settled"}
    assert set(InboxNotification.objects.values_list("outcome", flat=True)) == {"exception"}
    assert Payment.objects.filter(channel="wechat").count() == 0


@pytest.mark.django_db
def test_a_batch_larger_than_a_few_rows_posts_each_order_once(
    worker_mode, client, wechat_keys, wechat_account, make_order, make_charge, property_item
):
    # given seven orders of one month each, all acknowledged (they are posted as arrays)
    months = [make_charge(property_item, f"2025-{m:02d}", f"{100 + m}.00") for m in range(1, 8)]
    orders = [make_order(wechat_account, charge_list=[c]) for c in months]
    for n, order in enumerate(orders):
        headers, body = wechat_notification(
            wechat_keys, wechat_tx(order, wechat_keys), event_id=f"EV-{n}"
        )
        assert post_wechat(client, headers, body).status_code == 200
    # when the worker takes them in one batch
    assert inbox_post(limit=50) == 7
    # then each month is paid by its own payment, receipts 1..7 in the order they came
    assert set(InboxNotification.objects.values_list("outcome", flat=True)) == {"posted"}
    for n, (order, charge) in enumerate(zip(orders, months, strict=True), start=1):
        order.refresh_from_db()
        charge.refresh_from_db()
        assert charge.status == "paid" and charge.outstanding == 0
        assert order.payment.amount == charge.amount
        assert order.payment.receipt.number == n
        assert order.payment.receipt.lines[0]["charge_id"] == charge.pk


@pytest.mark.django_db
def test_an_order_of_another_merchant_account_is_settled_at_once_not_queued(
    worker_mode, settings, client, wechat_keys, wechat_account, make_order, estate
):
    # given an order placed through a second WeChat account of the estate (its own mchid),
    # and a notification signed and addressed as the first account's
    from wuye.online.models import MerchantAccount

    from .conftest import public_part

    merchants = {**worker_mode["merchants"]}
    merchants["hy-utilities"] = {**public_part(wechat_keys), "mchid": "1230000999"}
    settings.WUYE_PAY = {**worker_mode, "merchants": merchants}
    utilities = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-utilities", name="代收水电"
    )
    order = make_order(utilities)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when it arrives, then the order check refuses it at once (not acknowledged, not queued)
    assert post_wechat(client, headers, body).status_code == 400
    assert InboxNotification.objects.get().outcome == "refused"
    assert PaymentException.objects.get().reason == "merchant_mismatch"
    assert inbox_post() == 0 and not Payment.objects.exists()


@pytest.mark.django_db
def test_a_switched_off_account_verifies_nothing_from_the_next_notification_on(
    worker_mode, client, wechat_keys, wechat_account, make_order
):
    # given an account whose notifications were verified (its accounts are cached)
    first = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(first, wechat_keys))
    assert post_wechat(client, headers, body).status_code == 200
    # when staff switch it off
    wechat_account.is_active = False
    wechat_account.save()
    # then the next notification finds no account that knows its key
    second = make_order(wechat_account)
    headers, body = wechat_notification(
        wechat_keys, wechat_tx(second, wechat_keys), event_id="EV-AFTER"
    )
    response = post_wechat(client, headers, body)
    assert response.status_code == 400
    assert InboxNotification.objects.get(verdict="rejected").reason == "unknown_key"


@pytest.mark.django_db
def test_the_scheduled_safety_net_posts_what_no_inbox_worker_took(
    worker_mode, client, wechat_keys, wechat_account, make_order, charges
):
    # given two acknowledged notifications and no inbox worker running
    from wuye.online.tasks import post_inbox

    for order, event in (
        (make_order(wechat_account, charge_list=[charges[0]]), "EV-1"),
        (make_order(wechat_account, charge_list=[charges[1]]), "EV-2"),
    ):
        headers, body = wechat_notification(
            wechat_keys, wechat_tx(order, wechat_keys), event_id=event
        )
        assert post_wechat(client, headers, body).status_code == 200
    # when the scheduled job runs (the scheduler queues it every minute)
    result = post_inbox.call()
    # then both are posted and nothing waits
    assert result == {"posted": 2, "queued": 0.0, "oldest_seconds": 0.0}
    assert Payment.objects.count() == 2
    assert set(InboxNotification.objects.values_list("outcome", flat=True)) == {"posted"}


@pytest.mark.django_db
def test_wuye_online_post_once_posts_the_queue_and_says_what_is_left(
    worker_mode, client, wechat_keys, wechat_account, make_order
):
    from io import StringIO

    from django.core.management import call_command

    # given an acknowledged notification
    order = make_order(wechat_account)
    notification = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    assert post_wechat(client, *notification).status_code == 200
    # when the inbox worker runs until nothing is queued
    out = StringIO()
    call_command("online_post", "--once", stdout=out)
    # then it posted it and says so
    assert out.getvalue().strip() == "posted 1; still queued 0"
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.receipt is not None


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_eight_racing_copies_and_two_workers_post_one_payment(
    worker_mode, wechat_keys, wechat_account, make_order
):
    # given eight copies of one notification arriving at the same moment
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    statuses = race(8, lambda i: post_wechat(Client(), headers, body).status_code)
    assert statuses == [200] * 8
    # when two workers run at the same moment
    taken = race(2, lambda i: inbox_post())
    # then one of them took it, and there is one payment and one receipt
    assert sorted(taken) == [0, 1]
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1
    row = InboxNotification.objects.get()
    assert (row.deliveries, row.outcome) == (8, "posted")
