"""Billing rules that only show once money is taken: a run cannot be cancelled once one of its
charges is partly paid; an item that may not be paid from prepayment is not paid from general
prepayment money; a paid deposit is refunded or forfeited through the request and decision
pages. (Here, not in billing's tests: billing may not import the payments app.)"""

import html
import re
from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services as billing
from wuye.billing.models import BillingRun, Charge, DepositRelease
from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.payments.services import payment_take, prepayment_apply

from .conftest import TODAY

D = Decimal
pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def error_of(page: str, field: str) -> str:
    return " ".join(re.findall(rf'data-error="{field}">([^<]*)<', page))


# --- a run with a partly paid charge ---------------------------------------------------------


def test_a_run_is_not_cancelled_once_one_of_its_charges_is_partly_paid(
    client, finance, supervisor, cashier, shift, owner, property_item
):
    # given March billed (250.60) and 100.00 of it paid at the window
    run = billing.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-03", as_of=date(2026, 3, 1)
    )
    run = billing.billing_run_post(run=run, actor=finance)
    charge = Charge.objects.get(run=run)
    payment_take(actor=cashier, party=owner, amount="100.00", channel="cash", today=TODAY)
    charge.refresh_from_db()
    assert charge.outstanding == D("150.60")
    # when the supervisor tries to cancel the run, it is refused and nothing changes
    with pytest.raises(DomainError) as refused:
        billing.billing_run_cancel(run=run, actor=supervisor, reason="标准录错")
    assert refused.value.code == "run_touched" and "1-1-301" in refused.value.message
    # and the run's page says why
    client.force_login(supervisor)
    page = text(client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "标准录错"}))
    assert "already paid, waived or carry late fees (e.g. unit 1-1-301)" in error_of(page, "form")
    run.refresh_from_db()
    charge.refresh_from_db()
    assert run.status == BillingRun.Status.POSTED
    assert (charge.status, charge.outstanding) == (Charge.Status.OPEN, D("150.60"))
    assert account_balance(owner.estate, chart.RECEIVABLE) == D("150.60")


# --- prepayment offset off ------------------------------------------------------------------


@pytest.fixture
def parking_no_offset(estate):
    """Parking that the estate does not let general prepayment pay (prepayment_offset off)."""
    return FeeItem.objects.create(
        estate=estate,
        code="PARKING",
        name="停车费",
        kind="parking",
        basis="per_unit_month",
        prepayment_offset=False,
    )


def test_general_prepayment_does_not_pay_an_item_with_prepayment_offset_off(
    cashier, shift, owner, property_item, parking_no_offset, make_charge
):
    # given 500.00 of general prepayment, then parking and property charges
    payment_take(
        actor=cashier,
        party=owner,
        amount="500.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    parking = make_charge(parking_no_offset, "2026-03", "150.00")
    fee = make_charge(property_item, "2026-03", "250.60")
    # when the prepayment is applied
    prepayment_apply(actor=cashier, party=owner, today=TODAY)
    # then only the property fee is paid from it; parking stays owed in full
    parking.refresh_from_db()
    fee.refresh_from_db()
    assert (fee.status, fee.outstanding) == (Charge.Status.PAID, D("0.00"))
    assert (parking.status, parking.outstanding) == (Charge.Status.OPEN, D("150.00"))
    # even when the parking charge is named
    assert (
        prepayment_apply(actor=cashier, party=owner, charge_ids=[parking.pk], today=TODAY) is None
    )
    parking.refresh_from_db()
    assert parking.outstanding == D("150.00")


def test_money_earmarked_for_parking_still_pays_parking(
    cashier, shift, owner, property_item, parking_no_offset, make_charge
):
    payment_take(
        actor=cashier,
        party=owner,
        amount="150.00",
        channel="cash",
        keep_change_as_prepayment=True,
        earmark=parking_no_offset,
        today=TODAY,
    )
    parking = make_charge(parking_no_offset, "2026-03", "150.00")
    prepayment_apply(actor=cashier, party=owner, today=TODAY)
    parking.refresh_from_db()
    assert (parking.status, parking.outstanding) == (Charge.Status.PAID, D("0.00"))


# --- deposits: refund and forfeit through the pages -----------------------------------------


@pytest.fixture
def paid_deposit(finance, cashier, shift, owner, unit, estate):
    """A 2,000.00 renovation deposit raised and paid at the window."""
    item = FeeItem.objects.create(
        estate=estate,
        code="RENODEP",
        name="装修押金",
        kind="deposit",
        basis="one_off",
        treatment="deposit",
    )
    deposit = billing.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=item, amount="2000.00", description="装修押金 1-1-301"
    )
    payment_take(
        actor=cashier,
        party=owner,
        amount="2000.00",
        channel="cash",
        charge_ids=[deposit.pk],
        today=TODAY,
    )
    return deposit


def test_a_paid_deposit_is_refunded_through_request_and_approval(
    client, finance, supervisor, paid_deposit, estate
):
    assert account_balance(estate, chart.DEPOSITS) == D("2000.00")
    client.force_login(finance)
    page = text(client.get(f"/billing/charges/{paid_deposit.pk}/"))
    assert 'id="deposit-held">2,000.00<' in page
    # asking for more than is held is refused next to the amount
    page = text(
        client.post(
            f"/billing/charges/{paid_deposit.pk}/deposit-release/",
            {"action": "refund", "amount": "2500.00", "reason": "验收合格"},
        )
    )
    assert error_of(page, "amount") == (
        "only 2000.00 of this deposit is held (paid and not released)"
    )
    page = text(
        client.post(
            f"/billing/charges/{paid_deposit.pk}/deposit-release/",
            {"action": "refund", "amount": "2000.00", "reason": "装修验收合格"},
            follow=True,
        )
    )
    assert "Requested; a supervisor decides." in page and "装修验收合格" in page
    release = DepositRelease.objects.get()
    # the supervisor sees it in the queue and approves it
    client.force_login(supervisor)
    queue = text(client.get("/billing/deposits/"))
    row = queue[queue.index(f'id="release-{release.pk}"') :][:800]
    assert "2,000.00" in row and "Refund" in row and "装修验收合格" in row
    page = text(
        client.post(f"/billing/deposits/{release.pk}/decide/", {"decision": "approve"}, follow=True)
    )
    assert "Refund of 2,000.00 approved." in page
    page = text(client.get(f"/billing/charges/{paid_deposit.pk}/"))
    assert 'id="deposit-held">0.00<' in page
    assert account_balance(estate, chart.DEPOSITS) == D("0.00")
    assert account_balance(estate, chart.REFUNDS_PAYABLE) == D("2000.00")


def test_a_forfeit_becomes_revenue_and_who_asked_cannot_decide(
    client, supervisor, make_staff, paid_deposit, estate
):
    client.force_login(supervisor)
    client.post(
        f"/billing/charges/{paid_deposit.pk}/deposit-release/",
        {"action": "forfeit", "amount": "500.00", "reason": "损坏公共墙面"},
    )
    release = DepositRelease.objects.get()
    page = text(client.post(f"/billing/deposits/{release.pk}/decide/", {"decision": "approve"}))
    assert (
        error_of(page, "decision") == "a release is decided by someone other than who asked for it"
    )
    client.force_login(make_staff("supervisor", estates=[estate]))
    page = text(
        client.post(f"/billing/deposits/{release.pk}/decide/", {"decision": "approve"}, follow=True)
    )
    assert "Forfeit of 500.00 approved." in page
    assert account_balance(estate, chart.DEPOSITS) == D("1500.00")
    assert account_balance(estate, chart.revenue_account("RENODEP")) == D("500.00")


def test_another_estates_deposit_release_is_not_there(
    client, finance, make_staff, paid_deposit, other_estate
):
    release = billing.deposit_release_request(
        actor=finance, charge=paid_deposit, action="refund", amount="10.00", reason="x"
    )
    client.force_login(make_staff("supervisor", estates=[other_estate]))
    assert release.pk not in [
        int(pk) for pk in re.findall(r'id="release-(\d+)"', text(client.get("/billing/deposits/")))
    ]
    response = client.post(f"/billing/deposits/{release.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    release.refresh_from_db()
    assert release.status == DepositRelease.Status.REQUESTED
