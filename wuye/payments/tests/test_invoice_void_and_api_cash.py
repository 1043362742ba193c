"""Issue 11 §22: a payment with an issued invoice is voided only after the invoice's
red-letter note (红字发票); cash taken through the API is in the caller's open shift and needs
an Idempotency-Key."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from wuye.core.errors import DomainError
from wuye.payments.models import InvoiceRequest, Payment, PaymentReversal
from wuye.payments.services import (
    invoice_issue,
    invoice_red_note,
    invoice_request,
    payment_take,
    payment_void,
    reversal_approve,
    reversal_request,
    shift_expected,
)

from .conftest import TODAY

D = Decimal


@pytest.fixture
def invoiced(cashier, finance, owner, unit, shift, property_item, make_charge):
    """250.60 paid in cash for March, its invoice issued (No. 04400123)."""
    march = make_charge(property_item, "2026-03", "250.60")
    paid = payment_take(
        actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    req = invoice_request(actor=cashier, payment=paid)
    invoice_issue(actor=finance, request=req, invoice_number="04400123")
    assert march.pk
    return paid


def test_a_void_of_an_invoiced_payment_needs_the_red_letter_note_first(
    cashier, finance, supervisor, invoiced
):
    # when the cashier asks to void it
    with pytest.raises(DomainError) as refused:
        payment_void(
            requested_by=cashier,
            approved_by=supervisor,
            payment=invoiced,
            reason="收错",
            today=TODAY,
        )
    # then it is refused, naming the invoice and what to do
    assert refused.value.code == "invoice_issued" and "04400123" in refused.value.message
    assert not PaymentReversal.objects.exists()
    # after finance records the red-letter note, the void goes through
    invoice_red_note(
        actor=finance, request=InvoiceRequest.objects.get(), red_note_number="H-2026-0007"
    )
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=invoiced, reason="收错", today=TODAY
    )
    invoiced.refresh_from_db()
    assert invoiced.status == Payment.Status.VOIDED


def test_an_invoice_issued_after_the_void_was_asked_stops_its_approval(
    cashier, finance, supervisor, owner, unit, shift, property_item, make_charge
):
    make_charge(property_item, "2026-03", "250.60")
    paid = payment_take(
        actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    req = invoice_request(actor=cashier, payment=paid)
    asked = reversal_request(actor=cashier, payment=paid, kind="void", reason="收错")
    invoice_issue(actor=finance, request=req, invoice_number="04400124")
    with pytest.raises(DomainError) as refused:
        reversal_approve(actor=supervisor, reversal=asked, today=TODAY)
    assert refused.value.code == "invoice_issued"
    paid.refresh_from_db()
    assert paid.status == Payment.Status.POSTED


def test_the_red_letter_note_is_recorded_on_the_payment_page(client, finance, invoiced):
    client.force_login(finance)
    page = client.get(f"/payments/p/{invoiced.pk}/")
    assert b'id="red-note-form"' in page.content
    req = InvoiceRequest.objects.get()
    client.post(f"/payments/p/{invoiced.pk}/invoice/red/", {"id": req.pk, "number": "H-2026-0008"})
    req.refresh_from_db()
    assert (req.status, req.red_note_number) == ("red_noted", "H-2026-0008")


def test_api_cash_is_taken_in_the_callers_shift_with_an_idempotency_key(
    make_staff, cashier, owner, shift, estate
):
    api = APIClient()
    api.force_authenticate(cashier)
    body = {
        "party": owner.pk,
        "amount": "88.00",
        "channel": "cash",
        "keep_change_as_prepayment": True,
    }
    # without an Idempotency-Key: 400 saying so, nothing taken
    missing = api.post("/api/v1/payments/", body, format="json")
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]
    assert not Payment.objects.exists()
    # with one: the cash is in the cashier's shift (the drawer expects it)
    before = shift_expected(shift)["cash"]
    taken = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert taken.status_code == 201, taken.content
    assert Payment.objects.get().shift_id == shift.pk
    assert shift_expected(shift)["cash"] == before + D("88.00")
    # a caller without an open shift is refused
    other = make_staff("cashier", estates=[estate])
    api.force_authenticate(other)
    refused = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="c-2")
    assert refused.status_code == 400 and refused.json()["field"] == "shift"
    assert Payment.objects.count() == 1
