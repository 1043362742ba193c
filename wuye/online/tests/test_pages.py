"""The staff pages of online payments: each renders for its role and does its one job, and
another estate's records are not there."""

import pytest

from wuye.online import sandbox, services
from wuye.online.models import BankFileLayout, MerchantAccount, PaymentException, SandboxTrade

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_wechat(estate):
    return MerchantAccount.objects.create(
        estate=estate,
        provider="wechat",
        code="sb-wechat",
        name="sb",
        mode="sandbox",
        is_default=True,
    )


def test_the_exception_queue_credits_an_item(client, finance, owner, charges, sandbox_wechat):
    # given money that arrived for a closed order
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    services.order_close(order=order)
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    SandboxTrade.objects.filter(pk=trade.pk).update(state="NOTPAY")
    sandbox.deliver(sandbox.mark_paid(trade))
    item = PaymentException.objects.get()
    client.force_login(finance)
    # when finance opens the queue and credits it
    assert order.out_trade_no in client.get(f"/pay/exceptions/{item.pk}/").content.decode()
    assert "250.60" in client.get("/pay/exceptions/").content.decode()
    response = client.post(f"/pay/exceptions/{item.pk}/", {"action": "credit", "note": "ok"})
    # then it is credited
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "credited" and item.payment.amount == item.amount


def test_staff_of_another_estate_do_not_see_orders_or_exceptions(
    client, make_staff, other_estate, owner, charges, sandbox_wechat
):
    services.order_create(party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native")
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert "HY" not in client.get("/pay/orders/").content.decode().split("<tbody>")[1]


def test_a_cashier_takes_a_payment_code_at_the_window(
    client, cashier, owner, charges, sandbox_wechat, estate
):
    from wuye.payments.services import shift_open

    shift_open(actor=cashier, estate=estate, float_amount="0")
    client.force_login(cashier)
    page = client.get(f"/pay/window/?ref={owner.payment_ref}").content.decode()
    assert owner.name in page and "window-pick" in page
    response = client.post(
        "/pay/window/",
        {
            "party": owner.pk,
            "charges": f"{charges[0].pk},{charges[1].pk}",
            "provider": "wechat",
            "how": "code",
            "auth_code": "134567890123456789",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已支付" in page or "Paid" in page


def test_finance_posts_a_transfer_and_runs_an_auto_debit_batch(
    client, finance, owner, charges, estate
):
    client.force_login(finance)
    response = client.post(
        "/pay/transfers/",
        {
            "memo": f"转账 {owner.payment_ref}",
            "amount": "250.60",
            "bank_ref": "B1",
            "payer_name": "",
        },
    )
    assert response.status_code == 302
    bank = BankFileLayout.objects.get(code="generic-csv")
    services.mandate_create(
        actor=finance,
        party=owner,
        bank=bank,
        account_name="张伟",
        account_number="6222020200112233",
        signed_on=charges[0].period_start,
    )
    response = client.post("/pay/autodebit/", {"bank": bank.pk, "debit_date": "2026-03-31"})
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "250.60" in detail
    batch_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    download = client.post(f"/pay/autodebit/{batch_id}/file")
    assert "流水号" in download.content.decode("gbk")


def test_the_sandbox_tools_page_forges_and_shows_the_answer(client, owner, charges, sandbox_wechat):
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    token = SandboxTrade.objects.get(out_trade_no=order.out_trade_no).token
    page = client.post("/pay/sandbox/", {"token": token, "how": "forged"}).content.decode()
    assert "400" in page and "bad_signature" in page


def test_the_sandbox_is_gone_when_switched_off(client, settings, pay_settings):
    settings.WUYE_PAY = {**pay_settings, "sandbox": False}
    assert client.get("/pay/sandbox/").status_code == 404
