"""The statement of account after voids and refunds: each approved reversal is a debit of its
own on the day it was approved, the payment it reverses stays as the credit it was, and the
closing balance is always the party's open charges less their unused prepayment.

(These tests live with payments, not billing: billing may not import the payments app.)"""

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from wuye.billing.selectors import party_statement as statement_of
from wuye.payments.services import payment_refund, payment_take, payment_void

from .conftest import TODAY

pytestmark = pytest.mark.django_db

D = Decimal
LATER = TODAY + timedelta(days=2)


def party_statement(party):
    """The statement as a zh-hans office reads it (its lines are written in the reader's
    language)."""
    with translation.override("zh-hans"):
        return statement_of(party)


def agrees(statement) -> bool:
    """The statement's definition: what is owed net of money held for the party."""
    return statement.closing == statement.open_charges - statement.prepaid


def line_of(statement, kind: str):
    (line,) = [x for x in statement.lines if x.kind == kind]
    return line


def test_a_void_is_its_own_debit_and_the_charge_is_owed_again(
    cashier, supervisor, owner, shift, property_item, make_charge
):
    # given January is billed and paid in full
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    paid = party_statement(owner)
    assert paid.closing == D("0.00") and agrees(paid)
    # when a supervisor approves a void two days later
    payment_void(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="收错户",
        today=LATER,
    )
    # then 250.60 is owed again, and the statement says why
    statement = party_statement(owner)
    assert statement.closing == statement.open_charges == D("250.60") and agrees(statement)
    credit = line_of(statement, "payment")
    void = line_of(statement, "void")
    assert (credit.date, credit.credit, credit.debit) == (TODAY, D("250.60"), D("0.00"))
    assert (void.date, void.debit, void.credit) == (LATER, D("250.60"), D("0.00"))
    assert payment.receipt.code in void.text and "收错户" in void.text and "作废" in void.text
    assert [x.balance for x in statement.lines] == [D("250.60"), D("0.00"), D("250.60")]


def test_a_void_of_a_payment_with_change_kept_takes_the_prepayment_back(
    cashier, supervisor, owner, shift, property_item, make_charge
):
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    ahead = party_statement(owner)
    assert (ahead.closing, ahead.prepaid) == (D("-49.40"), D("49.40")) and agrees(ahead)
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="假币", today=TODAY
    )
    statement = party_statement(owner)
    assert (statement.closing, statement.prepaid) == (D("250.60"), D("0.00")) and agrees(statement)
    assert line_of(statement, "void").debit == D("300.00")


def test_a_refund_on_a_charge_reopens_it_on_the_statement(
    cashier, supervisor, owner, shift, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="多收物业费",
        charges={jan.pk: "100.00"},
        today=LATER,
    )
    statement = party_statement(owner)
    assert statement.closing == statement.open_charges == D("100.00") and agrees(statement)
    refund = line_of(statement, "refund")
    assert (refund.date, refund.debit) == (LATER, D("100.00"))
    assert "退款" in refund.text and "多收物业费" in refund.text


def test_a_refund_of_prepayment_brings_the_credit_balance_back_to_zero(
    cashier, supervisor, owner, shift, property_item, make_charge
):
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="退预存款",
        from_prepayment="49.40",
        today=TODAY,
    )
    statement = party_statement(owner)
    assert (statement.closing, statement.prepaid) == (D("0.00"), D("0.00")) and agrees(statement)


def test_staff_see_the_void_on_the_statement_page_and_its_pdf(
    client, cashier, supervisor, owner, shift, property_item, make_charge, tmp_path
):
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="收错户", today=TODAY
    )
    client.force_login(supervisor)
    page = client.get(
        f"/billing/statements/{owner.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert f"作废 {payment.receipt.code}: 收错户" in page
    assert '<th class="text-end" id="statement-closing">250.60</th>' in page
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "statement.pdf"
    path.write_bytes(
        client.get(f"/billing/statements/{owner.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "作废" in text and "期末欠费合计：250.60" in text
