"""A refunded deposit is paid out (issue 11 §6): in cash from a cashier's shift (the drawer's
expected cash and the day's report count it) or by bank transfer, each with its entry
debiting refunds payable; once only (idempotent, locked); page, API and service."""

from decimal import Decimal

import pytest
from django.db import connection

from wuye.billing.models import DepositRelease
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.payments.models import RefundPayout
from wuye.payments.services import payment_take, refund_payout, shift_expected

from .conftest import TODAY

D = Decimal


@pytest.fixture
def refunded_deposit(cashier, finance, supervisor, owner, unit, shift):
    """A 2,000.00 renovation deposit paid at the window, 1,500.00 of it refunded (approved):
    Dr DEPOSITS Cr REFUNDS_PAYABLE."""
    from wuye.billing.services import charge_adhoc_create, deposit_refund
    from wuye.fees.models import FeeItem

    item = FeeItem.objects.create(
        estate=unit.estate,
        code="DEPOSIT",
        name="装修押金",
        basis="one_off",
        kind="deposit",
        treatment="deposit",
    )
    charge = charge_adhoc_create(
        actor=finance, unit=unit, fee_item=item, amount="2000", description="装修押金"
    )
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="2000.00",
        channel="cash",
        charge_ids=[charge.pk],
        today=TODAY,
    )
    charge.refresh_from_db()
    return deposit_refund(
        requested_by=finance, approved_by=supervisor, charge=charge, amount="1500", reason="验收"
    )


def test_a_refund_paid_out_in_cash_leaves_the_drawer(cashier, shift, refunded_deposit, estate):
    from wuye.payments.selectors import daily_report

    assert account_balance(estate, chart.REFUNDS_PAYABLE) == D("1500.00")
    before = shift_expected(shift)["cash"]
    # when the cashier hands the 1,500.00 over
    payout = refund_payout(actor=cashier, release=refunded_deposit, channel="cash", today=TODAY)
    # then refunds payable is settled, the cash box holds 1,500.00 less
    assert (payout.amount, payout.shift_id) == (D("1500.00"), shift.pk)
    assert account_balance(estate, chart.REFUNDS_PAYABLE) == 0
    assert shift_expected(shift)["cash"] == before - D("1500.00")
    # and the day's report counts the money out: 2,000.00 in, 1,500.00 out
    report = daily_report(estate_id=estate.pk, business_date=TODAY)
    assert report["deposits_paid_out"] == "1500.00"
    assert report["total"] == "500.00"
    assert report["by_method"]["cash"] == "500.00"
    # asked again (a double click): the same payout, nothing moves twice
    again = refund_payout(actor=cashier, release=refunded_deposit, channel="cash", today=TODAY)
    assert again.pk == payout.pk and RefundPayout.objects.count() == 1
    assert account_balance(estate, chart.REFUNDS_PAYABLE) == 0
    # a transfer of the same refund is refused with the reason
    with pytest.raises(DomainError) as refused:
        refund_payout(
            actor=cashier,
            release=refunded_deposit,
            channel="transfer",
            external_ref="B1",
            today=TODAY,
        )
    assert refused.value.code == "paid_out"


def test_a_refund_paid_by_transfer_needs_its_reference_and_no_shift(
    cashier, shift, refunded_deposit, estate
):
    with pytest.raises(DomainError) as refused:
        refund_payout(actor=cashier, release=refunded_deposit, channel="transfer", today=TODAY)
    assert refused.value.field == "external_ref"
    before = shift_expected(shift)["cash"]
    payout = refund_payout(
        actor=cashier,
        release=refunded_deposit,
        channel="transfer",
        external_ref="20260310-0001",
        today=TODAY,
    )
    assert payout.shift_id is None
    assert shift_expected(shift)["cash"] == before
    assert account_balance(estate, chart.REFUNDS_PAYABLE) == 0
    assert account_balance(estate, chart.BANK) == D("-1500.00")


def test_only_an_approved_refund_is_paid_out(cashier, finance, shift, refunded_deposit):
    from wuye.billing.services import deposit_release_request

    asked = deposit_release_request(
        actor=finance, charge=refunded_deposit.charge, action="refund", amount="500", reason="余款"
    )
    with pytest.raises(DomainError) as refused:
        refund_payout(actor=cashier, release=asked, channel="cash", today=TODAY)
    assert refused.value.code == "not_approved"
    assert not RefundPayout.objects.exists()


def test_cash_needs_an_open_shift(make_staff, estate, refunded_deposit):
    other = make_staff("cashier", estates=[estate])
    with pytest.raises(DomainError) as refused:
        refund_payout(actor=other, release=refunded_deposit, channel="cash", today=TODAY)
    assert refused.value.field == "shift"


def test_the_page_and_the_api_pay_it_out(client, cashier, shift, refunded_deposit, estate):
    from rest_framework.test import APIClient

    client.force_login(cashier)
    page = client.get("/payments/payouts/")
    assert page.status_code == 200 and "1,500.00" in page.content.decode()
    api = APIClient()
    api.force_authenticate(cashier)
    body = {"release": refunded_deposit.pk, "channel": "transfer", "external_ref": "T-9"}
    # without an Idempotency-Key: 400 with the reason
    missing = api.post("/api/v1/refund-payouts/", body, format="json")
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]
    done = api.post("/api/v1/refund-payouts/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert done.status_code == 201, done.content
    again = api.post("/api/v1/refund-payouts/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert again.json()["id"] == done.json()["id"]
    assert RefundPayout.objects.count() == 1
    # the page now lists it as paid out
    page = client.get("/payments/payouts/")
    assert "T-9" in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL"
)
def test_two_cashiers_paying_out_one_refund_at_once_pay_it_once(
    make_staff, estate, owner, unit, property_item
):
    from wuye.billing.services import charge_adhoc_create, deposit_refund
    from wuye.fees.models import FeeItem
    from wuye.payments.services import shift_open

    from .test_concurrency import _in_threads

    finance = make_staff("finance", estates=[estate])
    supervisor = make_staff("supervisor", estates=[estate])
    cashiers = [make_staff("cashier", estates=[estate]) for _ in range(2)]
    shifts = [shift_open(actor=c, estate=estate, float_amount="0", today=TODAY) for c in cashiers]
    item = FeeItem.objects.create(
        estate=estate, code="DEPOSIT", name="装修押金", basis="one_off", kind="deposit",
        treatment="deposit",
    )  # fmt: skip
    charge = charge_adhoc_create(
        actor=finance, unit=unit, fee_item=item, amount="800", description="装修押金"
    )
    payment_take(
        actor=cashiers[0], party=owner, unit=unit, amount="800.00", channel="cash",
        charge_ids=[charge.pk], today=TODAY,
    )  # fmt: skip
    charge.refresh_from_db()
    release = deposit_refund(
        requested_by=finance, approved_by=supervisor, charge=charge, amount="800", reason="退"
    )
    results = _in_threads(
        2, lambda i: refund_payout(actor=cashiers[i], release=release, channel="cash", today=TODAY)
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].pk == results[1].pk == RefundPayout.objects.get().pk
    assert account_balance(estate, chart.REFUNDS_PAYABLE) == 0
    # one drawer paid it, once: 800.00 came in, 800.00 went out
    assert sum((shift_expected(s)["cash"] for s in shifts), D(0)) == 0
    assert DepositRelease.objects.get().payout.amount == D("800.00")


def test_billing_check_ties_refunds_payable_to_the_refunds_not_paid_out(
    cashier, shift, refunded_deposit, estate
):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    what = "refunds payable / refunds approved not paid out"
    out = StringIO()
    call_command("billing-check", stdout=out)
    assert f"{estate.code}: {what}: ledger 1500.00 subledger 1500.00 ok" in out.getvalue()
    refund_payout(actor=cashier, release=refunded_deposit, channel="cash", today=TODAY)
    out = StringIO()
    call_command("billing-check", stdout=out)
    assert f"{estate.code}: {what}: ledger 0.00 subledger 0.00 ok" in out.getvalue()
    # a payout row whose money never left the books is caught
    RefundPayout.objects.filter(release=refunded_deposit).delete()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("billing-check", stdout=out)
    assert f"{estate.code}: {what}: ledger 0.00 subledger 1500.00 DIFFERENCE" in out.getvalue()
