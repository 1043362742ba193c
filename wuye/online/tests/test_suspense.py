"""Money in the exception queue is in the books at once, on the channel's suspense account
(待查明款项), and leaves it with an entry: credited to the owner, refunded, or written off by
two people with a reason (issue 11 §4)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.online import sandbox, services
from wuye.online.models import MerchantAccount, PaymentException, PaymentOrder, SandboxTrade
from wuye.online.providers.base import Transaction
from wuye.payments.models import Payment

pytestmark = pytest.mark.django_db


def _paid(order: PaymentOrder, amount=None, ref="4200000001") -> Transaction:
    return Transaction(
        provider=order.provider,
        event_id=f"EV-{ref}",
        out_trade_no=order.out_trade_no,
        transaction_id=ref,
        amount=Decimal(amount if amount is not None else order.amount),
        currency="CNY",
        state="SUCCESS",
        paid=True,
    )


def _books(estate):
    return {
        "suspense": account_balance(estate, chart.SUSPENSE_WECHAT),
        "clearing": account_balance(estate, chart.CLEARING_WECHAT),
        "receivable": account_balance(estate, chart.RECEIVABLE),
        "other_income": account_balance(estate, chart.OTHER_INCOME),
    }


@pytest.fixture
def expired_paid(make_order, wechat_account, charges):
    """501.20 paid for an order that had expired: an exception, booked to suspense."""
    order = make_order(wechat_account, status="expired")
    assert services.transaction_settle(tx=_paid(order), verified_by="query") == "exception"
    return PaymentException.objects.get()


def test_money_for_an_expired_order_is_on_the_suspense_account_at_once(expired_paid, estate):
    # given money paid for an expired order, when it lands in the exception queue
    item = expired_paid
    # then the channel's clearing account shows the money, and suspense holds it
    books = _books(estate)
    assert books["clearing"] == Decimal("501.20")
    assert books["suspense"] == Decimal("501.20")
    assert books["receivable"] == Decimal("501.20")  # the charges are still open
    assert item.entry_id and item.business_date
    assert [r.ok for r in services.suspense_check()] == [True, True]


@pytest.mark.parametrize("reason", ["amount_mismatch", "paid_twice"])
def test_a_wrong_amount_or_a_second_payment_is_booked_too(
    make_order, wechat_account, charges, estate, reason
):
    order = make_order(wechat_account)
    if reason == "amount_mismatch":
        services.transaction_settle(tx=_paid(order, amount="500.00"), verified_by="query")
        held = Decimal("500.00")
    else:
        services.transaction_settle(tx=_paid(order, ref="T1"), verified_by="query")
        services.transaction_settle(tx=_paid(order, ref="T2"), verified_by="query")
        held = order.amount
    item = PaymentException.objects.get()
    assert item.reason == reason
    assert account_balance(estate, chart.SUSPENSE_WECHAT) == held


def test_crediting_moves_it_from_suspense_to_the_owner(expired_paid, estate, finance):
    # when finance credits it to the owner
    payment = services.exception_credit(actor=finance, item=expired_paid, note="owner asked")
    # then the charges are paid, suspense is empty, and the money is in clearing once
    books = _books(estate)
    assert payment.amount == Decimal("501.20") and payment.allocated == Decimal("501.20")
    assert books == {
        "suspense": Decimal("0.00"),
        "clearing": Decimal("501.20"),
        "receivable": Decimal("0.00"),
        "other_income": Decimal("0.00"),
    }
    expired_paid.refresh_from_db()
    assert expired_paid.status == "credited" and expired_paid.out_entry_id


def test_a_write_off_takes_two_people_and_a_reason(expired_paid, estate, finance, supervisor):
    item = expired_paid
    # a write-off without a reason is refused
    with pytest.raises(DomainError, match="say why"):
        services.exception_write_off_request(actor=finance, item=item, reason="  ")
    # whoever asks cannot approve it himself
    services.exception_write_off_request(actor=supervisor, item=item, reason="无法查明")
    with pytest.raises(DomainError, match="someone other"):
        services.exception_write_off_approve(actor=supervisor, item=item)
    services.exception_write_off_withdraw(actor=supervisor, item=item)
    # finance asks with a reason: nothing moves yet
    services.exception_write_off_request(actor=finance, item=item, reason="付款人无法联系")
    assert account_balance(estate, chart.SUSPENSE_WECHAT) == Decimal("501.20")
    # a supervisor approves: suspense to other income
    services.exception_write_off_approve(actor=supervisor, item=item, note="同意")
    item.refresh_from_db()
    assert item.status == "written_off" and item.resolved_by == supervisor
    books = _books(estate)
    assert books["suspense"] == Decimal("0.00") and books["other_income"] == Decimal("501.20")
    assert books["clearing"] == Decimal("501.20")


def test_finance_alone_cannot_approve_a_write_off(expired_paid, finance, make_staff, estate):
    other_finance = make_staff("finance", estates=[estate])
    services.exception_write_off_request(actor=finance, item=expired_paid, reason="无法查明")
    with pytest.raises(DomainError):
        services.exception_write_off_approve(actor=other_finance, item=expired_paid)


def test_a_refund_through_the_provider_moves_it_out_of_suspense(owner, charges, estate, finance):
    account = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="sb-w", name="沙箱", mode="sandbox", is_default=True
    )
    order = services.order_create(
        party=owner, charge_ids=[charges[0].pk], provider="wechat", kind="native"
    )
    assert order.merchant == account
    services.order_close(order=order)
    trade = SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    SandboxTrade.objects.filter(pk=trade.pk).update(state="NOTPAY")
    sandbox.deliver(sandbox.mark_paid(trade))
    item = PaymentException.objects.get(reason="order_closed")
    assert account_balance(estate, chart.SUSPENSE_WECHAT) == order.amount
    services.exception_refund(actor=finance, item=item)
    books = _books(estate)
    assert books["suspense"] == Decimal("0.00") and books["clearing"] == Decimal("0.00")


def test_billing_check_compares_suspense_with_the_open_exceptions(expired_paid, estate):
    out = StringIO()
    call_command("billing-check", stdout=out)
    assert "suspense wechat / open payment exceptions: ledger 501.20 subledger 501.20 ok" in (
        out.getvalue()
    )
    # an item queued before the suspense account existed is reported until it is booked
    PaymentException.objects.create(
        provider="wechat",
        transaction_id="OLD-1",
        estate=estate,
        amount=Decimal("30.00"),
        reason="order_expired",
    )
    with pytest.raises(CommandError):
        call_command("billing-check", stdout=StringIO())


def test_an_old_unbooked_item_is_booked_when_first_touched(estate, finance, make_staff, owner):
    item = PaymentException.objects.create(
        provider="alipay",
        transaction_id="OLD-2",
        estate=estate,
        amount=Decimal("30.00"),
        reason="unknown_order",
    )
    services.exception_write_off_request(actor=finance, item=item, reason="无人认领")
    assert account_balance(estate, chart.SUSPENSE_ALIPAY) == Decimal("30.00")
    approver = make_staff("supervisor", estates=[estate])
    services.exception_write_off_approve(actor=approver, item=item)
    assert account_balance(estate, chart.SUSPENSE_ALIPAY) == Decimal("0.00")
    assert account_balance(estate, chart.OTHER_INCOME) == Decimal("30.00")


def test_finance_resolves_an_item_through_the_api(expired_paid, finance, supervisor, estate):
    api = APIClient()
    api.force_authenticate(finance)
    got = api.get(f"/api/v1/online/exceptions/{expired_paid.pk}/")
    assert got.status_code == 200 and got.json()["entry_id"]
    url = f"/api/v1/online/exceptions/{expired_paid.pk}/resolve/"
    refused = api.post(url, {"action": "write_off"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    asked = api.post(
        url, {"action": "write_off", "reason": "重复支付"}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert asked.status_code == 200 and asked.json()["write_off_reason"] == "重复支付"
    api.force_authenticate(supervisor)
    done = api.post(url, {"action": "approve_write_off"}, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    assert done.status_code == 200 and done.json()["status"] == "written_off"
    assert not Payment.objects.exists()


def test_the_page_asks_for_a_write_off_and_another_person_approves(
    client, expired_paid, finance, supervisor
):
    url = f"/pay/exceptions/{expired_paid.pk}/"
    client.force_login(finance)
    client.post(url, {"action": "write_off", "note": "付款人无法联系"})
    page = client.get(url).content.decode()
    assert "付款人无法联系" in page and 'value="approve_write_off"' not in page
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert 'value="approve_write_off"' in page
    client.post(url, {"action": "approve_write_off"})
    expired_paid.refresh_from_db()
    assert expired_paid.status == "written_off"
