"""Invoice requests (開票申請): asked for with a payment at the window, issued by finance with
the invoice number; the party's title and tax number remembered for next time."""

import pytest

from wuye.core.errors import DomainError
from wuye.payments.models import InvoiceProfile
from wuye.payments.services import payment_take
from wuye.payments.services.invoices import invoice_issue, invoice_request

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(cashier, owner, shift, make_charge, property_item):
    charge = make_charge(property_item, "2026-03", "250.60")
    return payment_take(
        actor=cashier,
        party=owner,
        amount="250.60",
        channel="cash",
        charge_ids=[charge.pk],
        today=TODAY,
    )


def test_an_invoice_is_requested_once_and_issued_by_finance(cashier, finance, owner, payment):
    # given the owner asks for an invoice in the company's name
    req = invoice_request(
        actor=cashier, payment=payment, title="深圳某科技有限公司", tax_number="91440300ma5fxxxx1k"
    )
    # then the request waits for finance, and the title is remembered for the owner
    assert (req.status, req.tax_number) == ("requested", "91440300MA5FXXXX1K")
    assert InvoiceProfile.objects.get(party=owner).title == "深圳某科技有限公司"
    # and a second request for the same payment is refused, saying why
    with pytest.raises(DomainError, match="an invoice is already requested for this payment"):
        invoice_request(actor=cashier, payment=payment)
    # when finance issues it, then it carries the invoice number; it cannot be issued twice
    issued = invoice_issue(actor=finance, request=req, invoice_number=" 24442000000012345678 ")
    assert (issued.status, issued.invoice_number) == ("issued", "24442000000012345678")
    with pytest.raises(DomainError, match="the request is issued") as caught:
        invoice_issue(actor=finance, request=req, invoice_number="X")
    assert caught.value.field == "request"


def test_a_bad_tax_number_is_refused_naming_the_field(cashier, payment):
    with pytest.raises(DomainError) as caught:
        invoice_request(actor=cashier, payment=payment, tax_number="123")
    assert (caught.value.field, caught.value.message) == (
        "tax_number",
        "a tax number has 15 to 20 letters and digits",
    )


def test_a_use_of_prepayment_gets_no_invoice_of_its_own(
    cashier, owner, shift, make_charge, property_item
):
    # given money kept as prepayment, then used for the next month's charge
    from wuye.payments.services import prepayment_apply

    payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    make_charge(property_item, "2026-04", "250.60")
    used = prepayment_apply(actor=cashier, party=owner, today=TODAY)
    assert used.channel == "prepayment"
    # then the invoice goes with the cash payment that brought the money, not this one
    with pytest.raises(DomainError, match="the payment that brought the money") as caught:
        invoice_request(actor=cashier, payment=used)
    assert caught.value.field == "payment"
