"""Voids and refunds through the ledger; shifts; the day-end close."""

from datetime import timedelta
from decimal import Decimal

import pytest

from wuye.billing.models import Charge
from wuye.core.errors import DomainError, PermissionDenied
from wuye.payments.models import CashierShift, Payment, Receipt
from wuye.payments.services import (
    day_sign_off,
    payment_refund,
    payment_take,
    reversal_approve,
    reversal_request,
    shift_close,
    shift_open,
)

from .conftest import TODAY, books


def test_a_void_needs_a_supervisor_keeps_the_number_and_reverses_the_ledger(
    cashier, supervisor, owner, shift, property_item, make_charge, estate
):
    jan = make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    number = payment.receipt.number
    # when the cashier asks to void it, the cashier cannot approve it
    request = reversal_request(actor=cashier, payment=payment, kind="void", reason="输错金额")
    with pytest.raises(PermissionDenied):
        reversal_approve(actor=cashier, reversal=request, today=TODAY)
    reversal_approve(actor=supervisor, reversal=request, today=TODAY)
    # then the receipt keeps its number and is void, the charge is open again
    receipt = Receipt.objects.get(payment=payment)
    assert (receipt.number, receipt.status) == (number, Receipt.Status.VOID)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.VOIDED
    jan.refresh_from_db()
    assert jan.status == Charge.Status.OPEN and jan.outstanding == Decimal("250.60")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == Decimal("250.60")
    assert b["prepayments"] == b["movements"] == 0
    # and the payment itself was never edited
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("300.00")


def test_a_refunded_prepaid_period_reopens(
    cashier, supervisor, owner, shift, property_item, make_charge, estate
):
    mar = make_charge(property_item, "2026-03", "250.60")
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="业主出售房屋",
        charges={mar.pk: "250.60"},
        today=TODAY,
    )
    mar.refresh_from_db()
    assert mar.status == Charge.Status.OPEN and mar.outstanding == Decimal("250.60")
    b = books(estate)
    assert b["receivable"] == b["open_charges"]


def test_shift_close_shows_the_variance(cashier, owner, shift, property_item, make_charge):
    make_charge(property_item, "2026-01", "250.60")
    payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    # a count that differs is refused until confirmed, with a reason (issue 11 §18)
    with pytest.raises(DomainError) as unconfirmed:
        shift_close(actor=cashier, shift=shift, counted_cash="440.60", counted_pos="0")
    assert unconfirmed.value.code == "variance" and "-10.00" in unconfirmed.value.message
    with pytest.raises(DomainError) as no_reason:
        shift_close(
            actor=cashier,
            shift=shift,
            counted_cash="440.60",
            counted_pos="0",
            confirm_variance=True,
        )
    assert no_reason.value.field == "note"
    shift.refresh_from_db()
    assert shift.is_open
    closed = shift_close(
        actor=cashier,
        shift=shift,
        counted_cash="440.60",
        counted_pos="0",
        confirm_variance=True,
        note="找零时多找了10元",
    )
    # float 200.00 + 250.60 cash = 450.60 expected; 10.00 short
    assert closed.close_note == "找零时多找了10元"
    assert closed.expected_cash == Decimal("450.60")
    assert closed.cash_variance == Decimal("-10.00")
    assert closed.status == CashierShift.Status.CLOSED
    with pytest.raises(DomainError):
        payment_take(actor=cashier, party=owner, amount="1.00", channel="cash", today=TODAY)


def test_a_signed_off_day_takes_no_more_postings(
    cashier, finance, owner, shift, property_item, make_charge, estate
):
    make_charge(property_item, "2026-01", "250.60")
    with pytest.raises(DomainError) as err:
        day_sign_off(actor=finance, estate=estate, business_date=TODAY)
    assert err.value.field == "shift"
    payment_take(actor=cashier, party=owner, amount="100.00", channel="cash", today=TODAY)
    shift_close(actor=cashier, shift=shift, counted_cash="300.00")
    close = day_sign_off(actor=finance, estate=estate, business_date=TODAY)
    assert close.report["total"] == "100.00"
    assert close.report["by_method"] == {"cash": "100.00"}
    assert close.report["by_item_and_method"] == [
        {"item": "物业服务费", "method": "cash", "amount": "100.00"}
    ]
    with pytest.raises(DomainError) as err:
        shift_open(actor=cashier, estate=estate, today=TODAY)
    assert err.value.code == "day_closed"
    # the next day is open
    shift_open(actor=cashier, estate=estate, today=TODAY + timedelta(days=1))
