"""Issue 11 §3: a void undoes what the payment caused besides its allocations: the 抹零 waiver,
the offer's discount and free month, the charges it raised ahead of their bill run; or it is
refused with the reason."""

from decimal import Decimal

from wuye.billing.models import Charge, Waiver
from wuye.payments.models import PrepaymentOffer
from wuye.payments.services import (
    PayAhead,
    cashier_settings_update,
    payment_take,
    payment_void,
)

from .conftest import TODAY, books


def test_a_void_reverses_the_small_change_it_dropped(
    cashier, supervisor, finance, owner, shift, property_item, make_charge, estate
):
    # given 250.60 owed, paid with 250.00 and the 0.60 dropped (抹零)
    cashier_settings_update(
        actor=finance, estate=estate, round_small_change=True, round_unit="yuan"
    )
    jan = make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier, party=owner, amount="250.00", channel="cash", round_off=True, today=TODAY
    )
    assert payment.rounded_off == Decimal("0.60")
    # when the payment is voided
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="收错", today=TODAY
    )
    # then the whole 250.60 is owed again, the 0.60 waiver reversed in the books
    jan.refresh_from_db()
    assert jan.outstanding == Decimal("250.60") and jan.status == Charge.Status.OPEN
    assert Waiver.objects.get(charge=jan).status == Waiver.Status.REVERSED
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == Decimal("250.60")
    assert b["debits"] == b["credits"]


def test_a_void_withdraws_the_months_paid_ahead_and_the_free_month(
    cashier, supervisor, owner, unit, shift, property_item, estate
):
    # given 12 months paid ahead with a 12+1 offer (13 charges raised, the 13th waived)
    PrepaymentOffer.objects.create(
        estate=estate, fee_item=property_item, name="交12送1", min_months=12, free_months=1
    )
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="3007.20",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=12),
        today=TODAY,
    )
    # when the payment is voided the same day
    payment_void(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="业主反悔",
        today=TODAY,
    )
    # then the months still to come are withdrawn, the free month with its waiver; the
    # current month (March, begun) stays owed as its bill run would have raised it
    live = Charge.objects.filter(unit=unit).exclude(status=Charge.Status.CANCELLED)
    assert [(c.period, c.outstanding) for c in live] == [("2026-03", Decimal("250.60"))]
    assert Charge.objects.filter(unit=unit, status=Charge.Status.CANCELLED).count() == 12
    assert not Waiver.objects.filter(status=Waiver.Status.APPROVED).exists()
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == Decimal("250.60")
    assert b["debits"] == b["credits"]
