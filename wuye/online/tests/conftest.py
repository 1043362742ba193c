"""Fixtures of the online payment tests: merchant keys made with `cryptography` (once per
session: RSA 2048 is slow), merchant accounts configured with them, an owner with open
charges, and helpers that build notifications the way the providers sign them."""

import itertools
import time
from datetime import date

import pytest

from wuye.online import keys

_keys = itertools.count(1)


@pytest.fixture(scope="session")
def wechat_keys():
    """A WeChat Pay merchant: its key, the platform certificate (self-signed) and the WeChat
    Pay public key with its id, and the platform's private keys to sign with."""
    return keys.wechat_merchant(mchid="1230000109", appid="wxd678efh567hg6787")


@pytest.fixture(scope="session")
def alipay_keys():
    return keys.alipay_merchant(app_id="2021004100000001", seller_id="2088102177846880")


def public_part(config: dict) -> dict:
    """What the merchant configures: no private keys of the other side."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


@pytest.fixture(autouse=True)
def pay_settings(settings, wechat_keys, alipay_keys, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WUYE_PAY = {
        "sandbox": True,
        "merchants": {
            "hy-wechat": public_part(wechat_keys),
            "hy-alipay": public_part(alipay_keys),
        },
    }
    return settings.WUYE_PAY


@pytest.fixture
def finance(make_staff, estate):
    return make_staff("finance", estates=[estate])


@pytest.fixture
def supervisor(make_staff, estate):
    return make_staff("supervisor", estates=[estate])


@pytest.fixture
def cashier(make_staff, estate):
    return make_staff("cashier", estates=[estate])


@pytest.fixture
def property_item(estate):
    from wuye.fees.models import FeeItem

    return FeeItem.objects.create(
        estate=estate, code="PROPERTY", name="物业服务费", kind="property", basis="per_area_month"
    )


@pytest.fixture
def water_item(estate):
    from wuye.fees.models import FeeItem

    return FeeItem.objects.create(
        estate=estate, code="WATER", name="水费", kind="water", basis="metered", meter_unit="m3"
    )


@pytest.fixture
def make_charge(owner, unit):
    """make_charge(item, "2026-01", "250.60") -> an open charge posted Dr RECEIVABLE."""
    from wuye.billing.testing import charge_posted

    def make(item, period, amount, *, party=None):
        return charge_posted(unit, party or owner, period, amount, item=item)

    return make


@pytest.fixture
def charges(make_charge, property_item):
    """Two open months of property fees: 250.60 + 250.60."""
    return [
        make_charge(property_item, "2026-01", "250.60"),
        make_charge(property_item, "2026-02", "250.60"),
    ]


@pytest.fixture
def wechat_account(estate):
    from wuye.online.models import MerchantAccount

    return MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-wechat", name="华苑微信", is_default=True
    )


@pytest.fixture
def alipay_account(estate):
    from wuye.online.models import MerchantAccount

    return MerchantAccount.objects.create(
        estate=estate, provider="alipay", code="hy-alipay", name="华苑支付宝", is_default=True
    )


@pytest.fixture
def make_order(owner, charges):
    """make_order(account, kind="native", charge_list=None) -> a created order, as if placed
    with the provider (no provider call)."""
    from datetime import timedelta

    from django.utils import timezone

    from wuye.online.models import PaymentOrder, PaymentOrderCharge

    def make(account, *, kind="native", charge_list=None, number=None, status="created"):
        chosen = charge_list or charges
        order = PaymentOrder.objects.create(
            out_trade_no=number or f"HY{next(_keys):012d}",
            estate=account.estate,
            party=owner,
            merchant=account,
            provider=account.provider,
            kind=kind,
            amount=sum(c.outstanding for c in chosen),
            description="华苑小区 物业服务费",
            expires_at=timezone.now() + timedelta(minutes=15),
            status=status,
        )
        for c in chosen:
            PaymentOrderCharge.objects.create(order=order, charge=c, amount=c.outstanding)
        return order

    return make


def wechat_tx(order, keys_, **changes) -> dict:
    """The decrypted resource of a WeChat Pay success notification for `order`."""
    tx = {
        "appid": keys_["appid"],
        "mchid": keys_["mchid"],
        "out_trade_no": order.out_trade_no,
        "transaction_id": f"4200000{order.pk:05d}202603101234567890"[:32],
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-03-10T10:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {
            "total": int(order.amount * 100),
            "payer_total": int(order.amount * 100),
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    tx.update(changes)
    return tx


def wechat_notification(keys_, tx, *, event_id="EV-2026031000001", **kwargs):
    from wuye.online.sandbox import build_wechat_notification

    return build_wechat_notification(keys_, tx, event_id=event_id, **kwargs)


def post_wechat(client, headers, body):
    return client.post(
        "/pay/notify/wechat",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def alipay_params(order, keys_, **changes) -> dict:
    params = {
        "notify_time": "2026-03-10 10:00:05",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": keys_["app_id"],
        "seller_id": keys_["seller_id"],
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": f"2026031022001{order.pk:010d}",
        "out_trade_no": order.out_trade_no,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": str(order.amount),
        "receipt_amount": str(order.amount),
        "subject": "华苑小区 物业服务费",
        "gmt_payment": "2026-03-10 10:00:04",
    }
    params.update(changes)
    return params


def post_alipay(client, body):
    return client.post(
        "/pay/notify/alipay", data=body, content_type="application/x-www-form-urlencoded"
    )


def now() -> int:
    return int(time.time())


TODAY = date(2026, 3, 10)
