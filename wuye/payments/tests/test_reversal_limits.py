"""Issue 11 §2: the approval of a void or refund re-reads what it reverses; a reversal never
gives back more than remains of the payment, of its prepayment, or of a deposit."""

from decimal import Decimal

import pytest

from wuye.billing.models import PrepaymentMovement
from wuye.core.errors import DomainError
from wuye.core.money import MoneySum
from wuye.payments.models import Payment, PaymentReversal
from wuye.payments.services import payment_take, reversal_approve, reversal_request

from .conftest import TODAY, books


def _paid_back(payment) -> Decimal:
    return sum(
        (
            r.amount
            for r in PaymentReversal.objects.filter(
                payment=payment, status=PaymentReversal.Status.APPROVED
            )
        ),
        Decimal(0),
    )


def test_a_void_asked_before_a_refund_is_refused_at_approval(
    cashier, supervisor, owner, shift, property_item, make_charge, estate
):
    # given a 300.00 payment: 250.60 on January, 49.40 kept as prepayment
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    # when a void is asked, then a refund of the prepayment is asked and approved
    void = reversal_request(actor=cashier, payment=payment, kind="void", reason="输错")
    refund = reversal_request(
        actor=cashier, payment=payment, kind="refund", reason="退预存", from_prepayment="49.40"
    )
    reversal_approve(actor=supervisor, reversal=refund, today=TODAY)
    # then the void is refused at approval: 349.40 would go back on a 300.00 payment
    with pytest.raises(DomainError) as err:
        reversal_approve(actor=supervisor, reversal=void, today=TODAY)
    assert err.value.code == "refunded"
    assert _paid_back(payment) == Decimal("49.40")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
    assert b["prepayments"] == b["movements"] == 0


def test_two_refunds_of_one_payments_prepayment_are_not_both_approved(
    cashier, supervisor, owner, shift, property_item, estate
):
    # given two 300.00 top-ups of the same owner
    first = payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    # when two refunds of the first one's 300.00 are asked, both valid when asked
    a = reversal_request(
        actor=cashier, payment=first, kind="refund", reason="退款", from_prepayment="300.00"
    )
    b = reversal_request(
        actor=cashier, payment=first, kind="refund", reason="退款", from_prepayment="300.00"
    )
    reversal_approve(actor=supervisor, reversal=a, today=TODAY)
    # then the second is refused: nothing of the first payment's prepayment is left
    with pytest.raises(DomainError) as err:
        reversal_approve(actor=supervisor, reversal=b, today=TODAY)
    assert err.value.code == "exceeds"
    assert _paid_back(first) == Decimal("300.00")
    assert PrepaymentMovement.objects.filter(party=owner).aggregate(s=MoneySum("amount"))[
        "s"
    ] == Decimal("300.00")


def test_a_payment_is_not_voided_after_its_deposit_was_refunded(
    cashier, finance, supervisor, owner, shift, property_item, make_charge, estate
):
    from wuye.billing.services import deposit_refund

    # given a 2,000.00 renovation deposit paid at the window
    deposit = make_charge(property_item, "2026-03", "2000.00", kind="deposit")
    payment = payment_take(
        actor=cashier, party=owner, amount="2000.00", channel="cash", today=TODAY
    )
    void = reversal_request(actor=cashier, payment=payment, kind="void", reason="收错")
    # when the deposit is refunded meanwhile
    deposit_refund(
        requested_by=finance,
        approved_by=supervisor,
        charge=deposit,
        amount="2000.00",
        reason="装修完成",
    )
    # then the void of the payment is refused: the deposit would be paid back twice
    with pytest.raises(DomainError) as err:
        reversal_approve(actor=supervisor, reversal=void, today=TODAY)
    assert err.value.code == "deposit_released"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.POSTED
