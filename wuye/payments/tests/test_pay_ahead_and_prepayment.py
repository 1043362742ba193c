"""Paying ahead with offers, earmarked prepayment, the estate's prepayment cap."""

from decimal import Decimal

import pytest

from wuye.billing.models import Charge, Waiver
from wuye.core.errors import DomainError
from wuye.payments.models import PrepaymentOffer
from wuye.payments.services import (
    PayAhead,
    cashier_settings_update,
    payment_take,
    prepayment_apply,
    prepayment_balance,
)

from .conftest import TODAY, books, published_property_item


def test_paying_12_months_ahead_with_a_12_plus_1_offer(
    cashier, owner, unit, shift, property_item, estate
):
    # given a 12+1 offer on the property fee (250.60 a month for this unit)
    PrepaymentOffer.objects.create(
        estate=estate, fee_item=property_item, name="交12送1", min_months=12, free_months=1
    )
    # when the owner pays 12 months ahead
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="3007.20",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=12),
        today=TODAY,
    )
    # then 13 consecutive months are charged from the current month, none skipped
    charges = list(Charge.objects.filter(unit=unit).order_by("period"))
    assert [c.period for c in charges] == [f"2026-{m:02d}" for m in range(3, 13)] + [
        "2027-01",
        "2027-02",
        "2027-03",
    ]
    # and 12 are paid, the 13th waived by the offer (it shows as a waiver on the statement)
    assert all(c.outstanding == 0 for c in charges)
    assert [c.status for c in charges].count(Charge.Status.PAID) == 12
    free = charges[-1]
    assert free.status == Charge.Status.WAIVED
    assert Waiver.objects.get(charge=free).reason == "预交优惠 交12送1 赠送"
    assert payment.allocated == Decimal("3007.20") and payment.prepaid == 0
    # and the receipt shows the periods covered
    periods = [line["period"] for line in payment.receipt.lines if line["kind"] == "charge"]
    assert periods[0] == "2026-03" and periods[-1] == "2027-02"
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0


def test_a_discount_offer_is_refused_while_in_arrears(
    cashier, owner, unit, shift, property_item, estate, make_charge
):
    PrepaymentOffer.objects.create(
        estate=estate,
        fee_item=property_item,
        name="预交一年95折",
        min_months=12,
        discount_rate=Decimal("0.05"),
    )
    old = make_charge(property_item, "2026-01", "250.60")  # due 2026-01-28, unpaid
    # when the owner in arrears pays 12 months ahead
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="3007.20",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=12),
        today=TODAY,
    )
    # then no discount is granted: the full 12 x 250.60 pays February 2026 to January 2027
    assert not Waiver.objects.exists()
    assert payment.allocated == Decimal("3007.20")
    paid = [c.period for c in Charge.objects.filter(unit=unit, status="paid").order_by("period")]
    assert paid[0] == "2026-02" and paid[-1] == "2027-01" and len(paid) == 12
    # and the arrears stay open (the owner designated the months ahead)
    old.refresh_from_db()
    assert old.outstanding == Decimal("250.60")


def test_paying_ahead_up_to_a_date_never_skips_a_month(
    cashier, owner, unit, shift, property_item, make_charge
):
    make_charge(property_item, "2026-03", "250.60")
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="751.80",
        channel="cash",
        charge_ids=None,
        pay_ahead=PayAhead(fee_item=property_item, until=TODAY.replace(month=6, day=30)),
        today=TODAY,
    )
    assert list(
        Charge.objects.filter(unit=unit).order_by("period").values_list("period", flat=True)
    ) == [
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    # the open March charge stays open: only the months paid ahead were paid
    assert Charge.objects.get(period="2026-03").outstanding == Decimal("250.60")


def test_the_estate_caps_paying_ahead(cashier, owner, unit, shift, property_item, estate, finance):
    cashier_settings_update(actor=finance, estate=estate, prepayment_cap_months=6)
    with pytest.raises(DomainError) as err:
        payment_take(
            actor=cashier,
            party=owner,
            unit=unit,
            amount="3007.20",
            channel="cash",
            pay_ahead=PayAhead(fee_item=property_item, months=12),
            today=TODAY,
        )
    assert err.value.code == "cap"
    assert not Charge.objects.exists()


def test_the_estate_caps_prepayment_balances(
    cashier, owner, unit, shift, property_item, estate, finance
):
    cashier_settings_update(actor=finance, estate=estate, prepayment_cap_months=2)
    # 2 months of 250.60 = 501.20 at most
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="500.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    with pytest.raises(DomainError) as err:
        payment_take(
            actor=cashier,
            party=owner,
            unit=unit,
            amount="5.00",
            channel="cash",
            keep_change_as_prepayment=True,
            today=TODAY,
        )
    assert err.value.code == "cap" and "1.20" in err.value.message


def test_an_earmarked_prepayment_is_not_offset_against_another_item(
    cashier, owner, unit, shift, property_item, parking_item, make_charge, estate
):
    # given 300.00 prepaid for parking only, and an open property charge
    payment_take(
        actor=cashier,
        party=owner,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        earmark=parking_item,
        today=TODAY,
    )
    prop = make_charge(property_item, "2026-03", "250.60")
    # when the prepayment is applied to the owner's charges
    assert prepayment_apply(actor=cashier, party=owner, today=TODAY) is None
    # then the property charge is untouched and the parking money is still there
    prop.refresh_from_db()
    assert prop.outstanding == Decimal("250.60")
    assert prepayment_balance(owner.pk, parking_item.pk, exact=True) == Decimal("300.00")
    # but a parking charge is paid from it
    park = make_charge(parking_item, "2026-03", "150.00")
    used = prepayment_apply(actor=cashier, party=owner, today=TODAY)
    assert [(a.charge_id, a.amount) for a in used.allocations.all()] == [
        (park.pk, Decimal("150.00"))
    ]
    assert prepayment_balance(owner.pk, parking_item.pk, exact=True) == Decimal("150.00")
    b = books(estate)
    assert b["receivable"] == b["open_charges"]
    assert b["prepayments"] == b["movements"] == Decimal("150.00")


def test_general_prepayment_pays_any_item(
    cashier, owner, shift, property_item, make_charge, estate
):
    payment_take(
        actor=cashier,
        party=owner,
        amount="100.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    prop = make_charge(property_item, "2026-03", "250.60")
    used = prepayment_apply(actor=cashier, party=owner, today=TODAY)
    assert used.amount == Decimal("100.00")
    prop.refresh_from_db()
    assert prop.outstanding == Decimal("150.60")


def test_months_paid_ahead_are_not_billed_again_by_the_bill_run(
    cashier, owner, unit, shift, property_item, estate, finance
):
    from datetime import date

    from wuye.billing.services import billing_run_create, billing_run_post

    # given April to June paid ahead at the window in March
    payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="751.80",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=3),
        today=TODAY,
        charge_ids=None,
    )
    assert Charge.objects.filter(unit=unit).count() == 3
    # when April's bill run comes
    run = billing_run_create(actor=finance, estate=estate, period="2026-04", as_of=date(2026, 4, 1))
    run = billing_run_post(run=run, actor=finance)
    # then it bills nothing more for the unit, and the ledger still equals the subledger
    assert run.charges_created == 0
    assert Charge.objects.filter(unit=unit, period="2026-04").count() == 1
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0


def test_an_amount_pays_as_many_months_as_the_bill_run_would_price_them(
    cashier, finance, supervisor, owner, unit, shift, estate
):
    # given a property fee of 2.80/m² with half price for an approved vacancy, and the
    # owner's unit (89.50 m²) standing empty since January: 125.30 a month, not 250.60
    from datetime import date

    from wuye.fees.models import VacancyDiscount

    item = published_property_item(finance, supervisor, estate, vacancy_rate="0.5")
    VacancyDiscount.objects.create(
        estate=estate, unit=unit, start_date=date(2026, 1, 1), status="approved"
    )
    # when the owner hands over 375.90 to pay ahead "as far as it goes"
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="375.90",
        channel="cash",
        pay_ahead=PayAhead(fee_item=item, amount=Decimal("375.90")),
        today=TODAY,
    )
    # then it pays three months at the vacancy price, as the bill run charges them, and no
    # change is left over
    charges = list(Charge.objects.filter(unit=unit).order_by("period"))
    assert [(c.period, c.amount, c.status) for c in charges] == [
        ("2026-03", Decimal("125.30"), "paid"),
        ("2026-04", Decimal("125.30"), "paid"),
        ("2026-05", Decimal("125.30"), "paid"),
    ]
    assert payment.allocated == Decimal("375.90") and payment.prepaid == 0


def test_paying_months_ahead_needs_the_money_for_them(
    cashier, owner, unit, shift, property_item, estate
):
    """Issue 11 §5: 1.00 "for 3 months ahead" billed three months and granted the offer."""
    PrepaymentOffer.objects.create(
        estate=estate, fee_item=property_item, name="交3送1", min_months=3, free_months=1
    )
    # when 1.00 is offered for 3 months ahead (3 x 250.60 = 751.80 at the run's price)
    with pytest.raises(DomainError) as err:
        payment_take(
            actor=cashier,
            party=owner,
            unit=unit,
            amount="1.00",
            channel="cash",
            pay_ahead=PayAhead(fee_item=property_item, months=3),
            today=TODAY,
        )
    # then it is refused, naming the price, and nothing is charged or waived
    assert err.value.code == "short" and "751.80" in err.value.message
    assert not Charge.objects.exists() and not Waiver.objects.exists()
    # and the full price pays the three months with the free fourth
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="751.80",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=3),
        today=TODAY,
    )
    assert payment.allocated == Decimal("751.80")
    assert Charge.objects.filter(unit=unit).count() == 4


def test_small_change_is_dropped_only_when_the_payer_pays_less(
    cashier, finance, owner, shift, property_item, make_charge, estate
):
    """Issue 11 §22: 抹零 only when the payer pays less than owed."""
    cashier_settings_update(
        actor=finance, estate=estate, round_small_change=True, round_unit="yuan"
    )
    jan = make_charge(property_item, "2026-01", "250.60")
    # when the owner pays the full 250.60 and the cashier ticks 抹零
    payment = payment_take(
        actor=cashier, party=owner, amount="250.60", channel="cash", round_off=True, today=TODAY
    )
    # then nothing is waived: the 250.60 pays the charge
    assert payment.rounded_off == 0 and payment.allocated == Decimal("250.60")
    assert not Waiver.objects.filter(charge=jan).exists()
    jan.refresh_from_db()
    assert jan.status == Charge.Status.PAID
