"""Prepayment is applied when charges fall due (issue 11 §7, ADR 0012): after a bill run
posts and, in the late-fee job, before late fees are assessed; general money to any item,
earmarked money only to its item, imported prepaid balances included; the statement shows
it; a cashier applies it on demand; the estate's cap counts earmarked money too."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from openpyxl import Workbook

from wuye.billing.models import Charge, LateFeeAssessment
from wuye.core.errors import DomainError
from wuye.payments.models import Payment
from wuye.payments.services import (
    cashier_settings_update,
    payment_take,
    prepayment_balance,
)
from wuye.payments.services.payments import prepayment_total

from .conftest import TODAY, books

D = Decimal


def _import_prepaid(finance, estate, rows):
    from wuye.billing.services import opening_balances_import

    book = Workbook()
    sheet = book.active
    sheet.append(["unit", "fee_item", "period", "type", "amount", "date"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    opening_balances_import(actor=finance, estate=estate, content=out.getvalue(), as_of=TODAY)


def test_a_bill_run_pays_its_charges_from_the_prepayment(
    cashier, finance, owner, unit, shift, property_item, estate
):
    from wuye.billing.selectors import party_statement
    from wuye.billing.services import billing_run_create, billing_run_post

    # given 300.00 kept as prepayment at the window
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    # when March is billed (250.60)
    run = billing_run_create(actor=finance, estate=estate, period="2026-03", as_of=date(2026, 3, 1))
    billing_run_post(run=run, actor=finance)
    # then March is paid from the prepayment, 49.40 is left
    march = Charge.objects.get(unit=unit, period="2026-03")
    assert march.status == Charge.Status.PAID
    used = Payment.objects.get(channel=Payment.Channel.PREPAYMENT)
    assert (used.source, used.amount) == (Payment.Source.AUTO, D("250.60"))
    assert prepayment_total(owner.pk) == D("49.40")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
    assert b["prepayments"] == b["movements"] == D("49.40")
    # and the owner's statement shows what the prepayment paid, in the reader's language
    from django.utils import translation

    for language, words in (
        ("zh-hans", "预存款冲抵 250.60"),
        ("zh-hant", "預存款沖抵 250.60"),
        ("en", "Paid from prepayment 250.60"),
    ):
        with translation.override(language):
            shown = [line.text for line in party_statement(owner).lines]
        assert any(words in t and "2026-03" in t for t in shown), (language, shown)
    # a second run of the same hook applies nothing twice
    from wuye.payments.services import prepayment_auto_apply

    assert prepayment_auto_apply(estate_id=estate.pk, as_of=TODAY, run_id=run.pk) == []


def test_the_late_fee_job_applies_imported_prepayment_first_each_pool_to_its_item(
    finance, owner, unit, property_item, parking_item, make_charge, estate
):
    from wuye.billing.services import late_fees_assess_all

    # given January's property fee (250.60) and parking (80.00) unpaid, both overdue, and
    # from the old system 200.00 prepaid for the property fee and 100.00 for parking
    jan = make_charge(property_item, "2026-01", "250.60")
    park = make_charge(parking_item, "2026-01", "80.00")
    _import_prepaid(
        finance,
        estate,
        [
            ["1-1-301", "PROPERTY", None, "prepaid", "200.00"],
            ["1-1-301", "PARKING", None, "prepaid", "100.00"],
        ],
    )
    # when the daily late-fee job runs
    late_fees_assess_all(as_of=TODAY, today=TODAY)
    # then the prepayment paid first: parking from the parking money only (20.00 left of
    # it, not spent on the property fee), the property fee from its own money
    jan.refresh_from_db()
    park.refresh_from_db()
    assert park.status == Charge.Status.PAID
    assert jan.outstanding == D("50.60")
    assert prepayment_balance(owner.pk, parking_item.pk, exact=True) == D("20.00")
    assert prepayment_balance(owner.pk, property_item.pk, exact=True) == D("0.00")
    # and the late fee is on what was still unpaid, none on parking
    assessed = {a.principal_id: a.principal_unpaid for a in LateFeeAssessment.objects.all()}
    assert assessed == {jan.pk: D("50.60")}
    b = books(estate)
    assert b["receivable"] == b["open_charges"]
    assert b["prepayments"] == b["movements"] == D("20.00")


def test_the_estate_cap_counts_earmarked_prepayment_too(
    cashier, finance, owner, unit, shift, property_item, parking_item, estate
):
    # given a cap of 2 months (2 x 250.60 = 501.20) and 400.00 kept for parking
    cashier_settings_update(actor=finance, estate=estate, prepayment_cap_months=2)
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="400.00",
        channel="cash",
        keep_change_as_prepayment=True,
        earmark=parking_item,
        today=TODAY,
    )
    # when 200.00 more is to be kept as general prepayment
    with pytest.raises(DomainError) as refused:
        payment_take(
            actor=cashier,
            party=owner,
            unit=unit,
            amount="200.00",
            channel="cash",
            keep_change_as_prepayment=True,
            today=TODAY,
        )
    # then it is refused: only 101.20 more fits
    assert refused.value.code == "cap" and "101.20" in refused.value.message


def test_a_cashier_applies_the_prepayment_at_the_window(
    client, cashier, owner, unit, shift, property_item, make_charge, estate
):
    # given 100.00 prepaid and March open
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="100.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    march = make_charge(property_item, "2026-03", "250.60")
    client.force_login(cashier)
    page = client.get(f"/payments/?unit={unit.pk}")
    assert b'id="apply-prepayment"' in page.content
    # when the cashier presses "apply prepayment"
    response = client.post(f"/payments/window/unit/{unit.pk}/apply-prepayment/", follow=True)
    # then March has 150.60 left and the page says what was applied
    march.refresh_from_db()
    assert march.outstanding == D("150.60")
    assert "100.00" in response.content.decode()
    assert prepayment_total(owner.pk) == 0


_on_pg = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL"
)


def _prepaid_and_march(make_staff, estate, owner, unit, property_item, make_charge, amount):
    from wuye.payments.services import shift_open

    cashier = make_staff("cashier", estates=[estate])
    shift_open(actor=cashier, estate=estate, float_amount="200.00", today=TODAY)
    top_up = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount=amount,
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    march = make_charge(property_item, "2026-03", "250.60", due=date(2026, 3, 5))
    return cashier, top_up, march


@pytest.mark.django_db(transaction=True)
@_on_pg
def test_automatic_application_and_a_window_payment_at_once(
    monkeypatch, make_staff, estate, owner, unit, property_item, make_charge
):
    """The daily job applies 100.00 of prepayment to March while the cashier takes 250.60
    for March at the window: no deadlock, March paid once, the rest stays prepayment."""
    import time

    from wuye.payments.services import prepayment_auto_apply

    from .test_concurrency import _in_threads, _slow

    cashier, _top_up, march = _prepaid_and_march(
        make_staff, estate, owner, unit, property_item, make_charge, "100.00"
    )
    _slow(monkeypatch, "wuye.payments.services.payments:charge_refresh")

    def work(i):
        if i == 0:
            return prepayment_auto_apply(estate_id=estate.pk, as_of=TODAY)
        time.sleep(0.2)  # the application holds the party and March by now
        return payment_take(
            actor=cashier,
            party=owner,
            unit=unit,
            amount="250.60",
            channel="cash",
            keep_change_as_prepayment=True,
            today=TODAY,
        )

    results = _in_threads(2, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [p.amount for p in results[0]] == [D("100.00")]
    assert results[1].allocated == D("150.60")
    march.refresh_from_db()
    assert (march.status, march.outstanding) == (Charge.Status.PAID, D("0.00"))
    # 100.00 paid March from prepayment; the window's 250.60 paid the rest and kept 100.00
    assert prepayment_total(owner.pk) == D("100.00")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
    assert b["prepayments"] == b["movements"] == D("100.00")


@pytest.mark.django_db(transaction=True)
@_on_pg
def test_automatic_application_and_a_refund_of_the_prepayment_at_once(
    monkeypatch, make_staff, estate, owner, unit, property_item, make_charge
):
    """The daily job applies the prepayment while a supervisor approves its refund: one of
    them waits for the other and the balance never goes below zero."""
    import time

    from wuye.payments.services import prepayment_auto_apply, reversal_request
    from wuye.payments.services.reversals import reversal_approve

    from .test_concurrency import _in_threads, _slow

    cashier, top_up, march = _prepaid_and_march(
        make_staff, estate, owner, unit, property_item, make_charge, "250.60"
    )
    supervisor = make_staff("supervisor", estates=[estate])
    refund = reversal_request(
        actor=cashier, payment=top_up, kind="refund", reason="退预存", from_prepayment="250.60"
    )
    _slow(monkeypatch, "wuye.payments.services.payments:charge_refresh")

    def work(i):
        if i == 0:
            return prepayment_auto_apply(estate_id=estate.pk, as_of=TODAY)
        time.sleep(0.2)
        return reversal_approve(actor=supervisor, reversal=refund, today=TODAY)

    results = _in_threads(2, work)
    assert prepayment_total(owner.pk) == D("0.00")
    assert [p.amount for p in results[0]] == [D("250.60")]
    assert isinstance(results[1], DomainError) and results[1].code == "exceeds", results
    march.refresh_from_db()
    assert march.status == Charge.Status.PAID
    b = books(estate)
    assert b["prepayments"] == b["movements"] == 0
