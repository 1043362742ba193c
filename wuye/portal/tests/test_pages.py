"""The owner's pages: units and open charges, paying chosen charges through the sandbox,
statement, receipts as PDF, a dispute or hardship request that reaches staff, large type."""

import subprocess

import pytest

from wuye.online.models import PaymentOrder
from wuye.portal.models import OwnerRequest

pytestmark = pytest.mark.django_db


def test_home_shows_units_and_open_charges(owner_client, owner, charges, unit):
    page = owner_client.get("/owner/").content.decode()
    assert unit.number in page
    assert page.count('class="form-check-input charge-pick"') == 2
    assert "501.20" in page


def test_paying_two_charges_through_the_sandbox_then_the_receipt(
    owner_client, owner, charges, sandbox_accounts, tmp_path
):
    # given the owner chooses both charges and WeChat Pay
    response = owner_client.post(
        "/owner/pay/", {"charge": [c.pk for c in charges], "provider": "wechat"}
    )
    order = PaymentOrder.objects.get()
    assert response["Location"] == f"/owner/orders/{order.out_trade_no}/"
    page = owner_client.get(response["Location"]).content.decode()
    assert 'id="open-wallet"' in page and "<svg" in page
    # when they confirm in the sandbox wallet, they come back to the order
    back = owner_client.post(order.code_url, {"return": response["Location"]})
    assert back["Location"] == response["Location"]
    # then it is paid with a receipt they can download as a PDF
    page = owner_client.get(back["Location"]).content.decode()
    order.refresh_from_db()
    assert order.status == "paid"
    assert 'id="receipt-download"' in page
    pdf = owner_client.get(f"/owner/receipts/{order.payment.receipt.pk}.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    path = tmp_path / "r.pdf"
    path.write_bytes(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert order.payment.receipt.code in text


def test_alipay_goes_to_the_gateway_page(owner_client, charges, sandbox_accounts):
    response = owner_client.post("/owner/pay/", {"charge": [charges[0].pk], "provider": "alipay"})
    assert response["Location"].startswith("/pay/sandbox/alipay/gateway.do?")


def test_another_owners_charges_and_receipts_are_not_reachable(
    owner_client, charges, sandbox_accounts, estate, make_charge, property_item
):
    from wuye.registry.models import Party

    stranger = Party.objects.create(estate=estate, name="李四", mobile="13600000000")
    theirs = make_charge(property_item, "2026-05", "10.00", party=stranger)
    response = owner_client.post("/owner/pay/", {"charge": [theirs.pk], "provider": "wechat"})
    assert response["Location"] == "/owner/"
    assert PaymentOrder.objects.count() == 0
    assert owner_client.get("/owner/receipts/999999.pdf").status_code == 404


def test_statement_lists_charges_and_payments(owner_client, charges):
    page = owner_client.get("/owner/statement/").content.decode()
    assert "2026-01" in page and "501.20" in page


def test_a_hardship_request_reaches_staff(owner_client, owner, unit, make_staff, estate, client):
    # when the owner tells us they cannot pay this month
    response = owner_client.post(
        "/owner/requests/new/",
        {"kind": "hardship", "unit": unit.pk, "text": "失业了，这两个月交不上", "phone": ""},
    )
    assert response.status_code == 302
    item = OwnerRequest.objects.get()
    assert (item.kind, item.party, item.unit, item.phone) == ("hardship", owner, unit, owner.mobile)
    # then customer service sees it and answers it
    from django.test import Client

    staff = make_staff("customer_service", estates=[estate])
    desk = Client()
    desk.force_login(staff)
    assert "失业了" in desk.get("/owner/staff/requests/").content.decode()
    desk.post(f"/owner/staff/requests/{item.pk}/", {"answer": "已安排管家联系", "close": "1"})
    item.refresh_from_db()
    assert item.status == "closed" and item.handled_by == staff
    assert "已安排管家联系" in owner_client.get("/owner/requests/").content.decode()


def test_staff_of_another_estate_do_not_see_the_request(
    owner_client, unit, make_staff, other_estate
):
    owner_client.post(
        "/owner/requests/new/", {"kind": "dispute", "unit": unit.pk, "text": "电梯坏了一个月"}
    )
    from django.test import Client

    desk = Client()
    desk.force_login(make_staff("customer_service", estates=[other_estate]))
    assert "电梯坏了" not in desk.get("/owner/staff/requests/").content.decode()


def test_large_type_is_a_switch(owner_client, charges):
    owner_client.get("/owner/large/")
    assert 'class="portal-large"' in owner_client.get("/owner/").content.decode()
    owner_client.get("/owner/large/")
    assert 'class="portal-large"' not in owner_client.get("/owner/").content.decode()


def test_large_type_goes_back_only_to_a_page_of_this_site(owner_client):
    back = owner_client.get("/owner/large/?next=/owner/statement/")
    assert back.status_code == 302 and back["Location"] == "/owner/statement/"
    for elsewhere in ("https://evil.example/", "//evil.example/owner/", "javascript:alert(1)"):
        response = owner_client.get("/owner/large/", {"next": elsewhere})
        assert response.status_code == 302 and response["Location"] == "/owner/"


def test_an_order_page_shows_the_receipt_of_a_notification_the_worker_has_not_posted_yet(
    owner_client, owner, charges, sandbox_accounts, settings, pay_settings, client
):
    # given WeChat notifications acknowledged before posting, and the owner's order paid in
    # the sandbox wallet: acknowledged, waiting in the inbox for the worker
    from wuye.online import services
    from wuye.online.models import InboxNotification, PaymentOrder

    settings.WUYE_PAY = {**pay_settings, "notify_posting": "worker"}
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    client.post(order.code_url)
    assert InboxNotification.objects.get().outcome == "queued"
    assert PaymentOrder.objects.get(pk=order.pk).status == "created"
    # when the owner looks at the order
    page = owner_client.get(f"/owner/orders/{order.out_trade_no}/").content.decode()
    # then it is paid, with its receipt, without waiting for the worker
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.receipt is not None
    assert order.payment.receipt.code in page
