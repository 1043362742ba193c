"""The whole pay flow offline through the sandbox gateway: orders placed with the SDKs
(signed requests, verified answers), paid in the sandbox wallet, notified, posted; the
developer's replay/duplicate/forge tools; active queries and expiry; the window's payment code
landing in the cashier's shift."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.online import sandbox, services
from wuye.online.models import MerchantAccount, MerchantRoute, PaymentException, SandboxTrade
from wuye.payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_wechat(estate):
    return MerchantAccount.objects.create(
        estate=estate,
        provider="wechat",
        code="sb-wechat",
        name="沙箱微信",
        mode="sandbox",
        is_default=True,
    )


@pytest.fixture
def sandbox_alipay(estate):
    return MerchantAccount.objects.create(
        estate=estate,
        provider="alipay",
        code="sb-alipay",
        name="沙箱支付宝",
        mode="sandbox",
        is_default=True,
    )


def test_native_order_paid_in_the_sandbox_is_posted(owner, charges, sandbox_wechat, client):
    # given an owner's order placed with WeChat Pay (sandbox), answered with a QR code URL
    order = services.order_create(
        party=owner, charge_ids=[c.pk for c in charges], provider="wechat", kind="native"
    )
    assert order.status == "created" and "/pay/sandbox/pay/" in order.code_url
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    assert trade.amount == order.amount
    # when the payer confirms in the sandbox wallet
    response = client.post(order.code_url, {"return": "/owner/"})
    # then the notification arrived, the order is paid and posted, and the payer goes back
    assert response.status_code == 302 and response["Location"] == "/owner/"
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.amount == order.amount
    assert order.transaction_id == SandboxTrade.objects.get(pk=trade.pk).transaction_id


def test_alipay_wap_order_goes_through_the_sandbox_cashier(owner, charges, sandbox_alipay, client):
    # given an Alipay order: a signed gateway URL for the payer's browser
    order = services.order_create(
        party=owner,
        charge_ids=[charges[0].pk],
        provider="alipay",
        kind="wap",
        return_url="/owner/orders/",
    )
    assert order.pay_url.startswith("/pay/sandbox/alipay/gateway.do?")
    # when the browser opens it: the gateway checks the app's signature and shows the cashier
    page = client.get(order.pay_url, follow=True)
    assert page.status_code == 200 and b'id="sandbox-pay"' in page.content
    token = page.redirect_chain[-1][0].rsplit("/", 1)[-1]
    client.post(f"/pay/sandbox/pay/{token}", {"return": "/owner/orders/"})
    # then it is paid once
    order.refresh_from_db()
    assert order.status == "paid" and order.payment.channel == "alipay"


def test_a_tampered_gateway_url_is_refused(owner, charges, sandbox_alipay, client):
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="alipay", kind="wap"
    )
    response = client.get(order.pay_url.replace("total_amount", "total_amounx"))
    assert response.status_code == 400


def test_developer_tools_replay_duplicate_and_forge_post_once(owner, charges, sandbox_wechat):
    # given a paid sandbox order
    order = services.order_create(
        party=owner, charge_ids=[c.pk for c in charges], provider="wechat", kind="native"
    )
    trade = sandbox.mark_paid(SandboxTrade.objects.get(out_trade_no=order.out_trade_no))
    # when the developer delivers it normally, resends it, duplicates it, forges it and
    # sends it stale and in the platform-certificate mode
    replies = {how: sandbox.deliver(trade, how=how) for how in sandbox_hows()}
    # then only genuine, fresh copies are acknowledged, and one payment is posted
    assert [s for s, _ in replies["normal"]] == [200]
    assert [s for s, _ in replies["duplicate"]] == [200, 200]
    assert [s for s, _ in replies["platform_cert"]] == [200]
    assert replies["forged"][0][0] == 400 and replies["stale"][0][0] == 400
    assert Payment.objects.count() == 1


def sandbox_hows():
    return ["normal", "duplicate", "forged", "stale", "platform_cert"]


def test_an_order_paid_without_a_notification_is_found_by_the_active_query(
    owner, charges, sandbox_alipay
):
    # given an order paid at the provider whose notification never came
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="alipay", kind="native"
    )
    sandbox.mark_paid(SandboxTrade.objects.get(out_trade_no=order.out_trade_no))
    # when the sweep queries orders older than a minute
    counts = services.orders_sweep(now=timezone.now() + timedelta(minutes=2))
    # then the order is settled from the provider's signed answer
    order.refresh_from_db()
    assert counts == {"paid": 1}
    assert order.status == "paid" and order.payment is not None


def test_an_unpaid_order_expires_and_money_arriving_later_is_queued(owner, charges, sandbox_wechat):
    # given an order nobody paid
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    # when its time is up, the sweep closes it at the provider and expires it
    services.orders_sweep(now=order.expires_at + timedelta(seconds=1))
    order.refresh_from_db()
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    assert order.status == "expired" and trade.state == "CLOSED"
    # and if money arrives for it anyway, it waits in the exception queue, not posted
    SandboxTrade.objects.filter(pk=trade.pk).update(state="NOTPAY")
    sandbox.deliver(sandbox.mark_paid(trade))
    assert Payment.objects.count() == 0
    item = PaymentException.objects.get()
    assert item.reason == "order_expired"
    # then finance credits it to the owner
    finance_user = _finance(owner)
    payment = services.exception_credit(actor=finance_user, item=item, note="owner asked")
    assert payment.amount == order.amount
    item.refresh_from_db()
    assert item.status == "credited"


def test_an_order_paid_with_a_wrong_amount_is_queued_once_and_then_left_alone(
    owner, charges, sandbox_wechat
):
    # given an order the provider says was paid, but 1.00 less than the order
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    trade = sandbox.mark_paid(SandboxTrade.objects.get(out_trade_no=order.out_trade_no))
    SandboxTrade.objects.filter(pk=trade.pk).update(amount=order.amount - 1)
    # when the sweep asks about it, before and after its time is up
    services.orders_sweep(now=timezone.now() + timedelta(minutes=2))
    services.orders_sweep(now=order.expires_at + timedelta(minutes=1))
    # then the money waits once in the exception queue, and the order is over: the next
    # sweeps no longer ask about it
    assert PaymentException.objects.get().reason == "amount_mismatch"
    order.refresh_from_db()
    assert order.status == "expired" and not Payment.objects.exists()
    assert services.orders_sweep(now=order.expires_at + timedelta(minutes=5)) == {}


def _finance(owner):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from wuye.registry.models import StaffProfile

    user = get_user_model().objects.create_user("fin-x", password="x" * 12)
    user.groups.add(Group.objects.get(name="finance"))
    StaffProfile.objects.create(user=user).estates.set([owner.estate])
    return get_user_model().objects.get(pk=user.pk)


def test_a_queued_payment_can_be_refunded_through_the_provider(owner, charges, sandbox_wechat):
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    services.order_close(order=order)
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    SandboxTrade.objects.filter(pk=trade.pk).update(state="NOTPAY")
    sandbox.deliver(sandbox.mark_paid(trade))
    item = PaymentException.objects.get(reason="order_closed")
    services.exception_refund(actor=_finance(owner), item=item)
    item.refresh_from_db()
    assert item.status == "refunded"
    assert SandboxTrade.objects.get(pk=trade.pk).state == "REFUND"


def test_charges_of_different_merchant_accounts_are_paid_separately(
    owner, make_charge, property_item, water_item, sandbox_wechat, estate
):
    # given water collected through the water company's own merchant account
    utilities = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="sb-water", name="自来水公司", mode="sandbox"
    )
    MerchantRoute.objects.create(fee_item=water_item, provider="wechat", account=utilities)
    fee = make_charge(property_item, "2026-01", "250.60")
    water = make_charge(water_item, "2026-01", "36.00")
    # when the owner chooses both, then they are told to pay them separately
    from wuye.core.errors import DomainError

    with pytest.raises(DomainError, match="different accounts"):
        services.order_create(
            party=owner, charge_ids=[fee.pk, water.pk], provider="wechat", kind="native"
        )
    # and the water alone goes to the water company's account
    order = services.order_create(
        party=owner, charge_ids=[water.pk], provider="wechat", kind="native"
    )
    assert order.merchant == utilities


def test_charges_not_payable_online_or_of_another_party_are_refused(
    owner, charges, sandbox_wechat, property_item
):
    from wuye.core.errors import DomainError
    from wuye.registry.models import Party

    stranger = Party.objects.create(estate=owner.estate, name="李四")
    with pytest.raises(DomainError, match="not one of yours"):
        services.order_create(
            party=stranger, charge_ids=[charges[0].pk], provider="wechat", kind="native"
        )
    property_item.online_payable = False
    property_item.save()
    with pytest.raises(DomainError, match="cannot be paid online"):
        services.order_create(
            party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
        )


def test_tapping_pay_twice_gives_the_same_order(owner, charges, sandbox_wechat):
    ids = [c.pk for c in charges]
    first = services.order_create(party=owner, charge_ids=ids, provider="wechat", kind="native")
    second = services.order_create(party=owner, charge_ids=ids, provider="wechat", kind="native")
    assert first.pk == second.pk


def test_a_counter_qr_is_never_the_owners_own_open_order(
    owner, charges, sandbox_wechat, cashier, estate, client
):
    # given the owner's own open portal order (a Native QR) for both months
    from wuye.payments.services import shift_open

    ids = [c.pk for c in charges]
    mine = services.order_create(party=owner, charge_ids=ids, provider="wechat", kind="native")
    # when the cashier shows a counter QR for the same months
    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    counter = services.window_qr(actor=cashier, party=owner, charge_ids=ids, provider="wechat")
    # then it is an order of its own, the window's, in the cashier's shift; asked again it
    # is the same counter order
    assert counter.pk != mine.pk
    assert (counter.source, counter.cashier_id, counter.shift_id) == (
        "window",
        cashier.pk,
        shift.pk,
    )
    again = services.window_qr(actor=cashier, party=owner, charge_ids=ids, provider="wechat")
    assert again.pk == counter.pk
    # and paid, its money lands in the shift
    client.post(counter.code_url)
    counter.refresh_from_db()
    assert counter.status == "paid" and counter.payment.shift_id == shift.pk


def test_paying_inside_wechat_gets_parameters_signed_with_the_merchant_key(
    owner, charges, sandbox_wechat
):
    # given an owner paying inside WeChat (JSAPI, with the openid)
    import time

    order = services.order_create(
        party=owner,
        charge_ids=[charges[0].pk],
        provider="wechat",
        kind="jsapi",
        openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )
    # then WeixinJSBridge gets the prepay id and a paySign WeChat can verify with the
    # merchant's public key over appId, timeStamp, nonceStr and package, one per line
    params = order.jsapi
    config = sandbox.keyring().merchant_config("wechat")
    assert params["appId"] == config["appid"] and params["signType"] == "RSA"
    assert params["package"] == f"prepay_id={order.prepay_id}" and order.prepay_id
    assert abs(int(params["timeStamp"]) - time.time()) < 60 and len(params["nonceStr"]) == 32
    message = "".join(f"{params[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    keyring = sandbox.keyring()
    assert keyring.merchant_signature_ok(message, params["paySign"])
    tampered = message.replace(order.prepay_id, order.prepay_id + "x")
    assert not keyring.merchant_signature_ok(tampered, params["paySign"])


def test_payment_code_at_the_window_lands_in_the_cashiers_shift(
    owner, charges, sandbox_wechat, sandbox_alipay, cashier, estate
):
    # given a cashier with an open shift
    from wuye.payments.services import shift_open

    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    # when the owner's WeChat payment code is scanned for one month
    order = services.window_payment_code(
        actor=cashier,
        party=owner,
        charge_ids=[charges[0].pk],
        provider="wechat",
        auth_code="134567890123456789",
    )
    # then it is paid at once and the payment is in the cashier's shift, receipted
    assert order.status == "paid"
    assert order.payment.shift_id == shift.pk and order.payment.source == "window"
    # and an Alipay code waiting for the owner's password is settled when the cashier checks
    waiting = services.window_payment_code(
        actor=cashier,
        party=owner,
        charge_ids=[charges[1].pk],
        provider="alipay",
        auth_code="2845678901230000",
    )
    assert waiting.status == "created"
    sandbox.mark_paid(SandboxTrade.objects.get(out_trade_no=waiting.out_trade_no))
    checked = services.window_check(actor=cashier, order=waiting)
    assert checked.status == "paid" and checked.payment.shift_id == shift.pk


@pytest.mark.parametrize(
    "taken, code",
    [
        (True, "unreachable"),
        (False, "unreachable"),
        (True, "SYSTEM_ERROR"),
        (True, "502"),
    ],
)
def test_a_payment_code_without_a_clear_answer_is_asked_about_never_just_closed(
    owner, charges, sandbox_wechat, cashier, estate, monkeypatch, taken, code
):
    # given a cashier's open shift, and a WeChat answer to the payment code that is lost on
    # the way (after the provider took the money, or before)
    from wuye.online.providers import ProviderError
    from wuye.online.providers.wechat import WechatClient
    from wuye.payments.services import shift_open

    shift = shift_open(actor=cashier, estate=estate, float_amount="0")
    real = WechatClient.micropay

    def lost(self, **kwargs):
        if taken:
            real(self, **kwargs)
        raise ProviderError("no clear answer", code=code)

    monkeypatch.setattr(WechatClient, "micropay", lost)
    # when the cashier scans the code
    order = services.window_payment_code(
        actor=cashier,
        party=owner,
        charge_ids=[charges[0].pk],
        provider="wechat",
        auth_code="134567890123456789",
    )
    # then the provider is asked: money taken is posted into the shift; otherwise the
    # order waits for "check again" and the sweep, nothing closed while it is unknown
    if taken:
        assert order.status == "paid" and order.payment.shift_id == shift.pk
    else:
        assert order.status == "created" and order.start_error == ""
        assert not Payment.objects.exists()


def test_a_window_payment_needs_an_open_shift(owner, charges, sandbox_wechat, cashier):
    from wuye.core.errors import DomainError

    with pytest.raises(DomainError, match="open your shift"):
        services.window_payment_code(
            actor=cashier,
            party=owner,
            charge_ids=[charges[0].pk],
            provider="wechat",
            auth_code="134567890123456789",
        )


def test_the_sdk_talks_to_the_sandbox_over_http_too(owner, charges, sandbox_wechat, client):
    """A WeChat Pay SDK client whose gateway is /pay/sandbox/wechat, over HTTP (the test
    client), places an order and verifies the signed answer."""
    from wuye.online.providers.base import Response
    from wuye.online.providers.wechat import WechatClient

    class TestClientTransport:
        def request(self, method, url, headers, body):
            path = url.split("testserver", 1)[-1]
            call = client.post if method == "POST" else client.get
            kwargs = {"data": body, "content_type": "application/json"} if method == "POST" else {}
            resp = call(path, headers=headers, **kwargs)
            return Response(resp.status_code, dict(resp.headers), resp.content.decode())

    config = sandbox.keyring().merchant_config("wechat") | {
        "gateway": "http://testserver/pay/sandbox/wechat"
    }
    wx = WechatClient(config, transport=TestClientTransport())
    start = wx.start(
        kind="native",
        out_trade_no="HYHTTP0001",
        description="test",
        amount=charges[0].amount,
        expires_at=timezone.localtime() + timedelta(minutes=5),
        notify_url="http://testserver/pay/notify/wechat",
    )
    assert "/pay/sandbox/pay/" in start.code_url
    assert wx.query(out_trade_no="HYHTTP0001").state == "NOTPAY"


def test_the_demo_gets_sandbox_accounts_once(estate):
    first = services.sandbox_merchants_ensure(estate=estate)
    again = services.sandbox_merchants_ensure(estate=estate)
    assert [a.pk for a in first] == [a.pk for a in again]
    assert {(a.provider, a.mode, a.is_default) for a in first} == {
        ("wechat", "sandbox", True),
        ("alipay", "sandbox", True),
    }
