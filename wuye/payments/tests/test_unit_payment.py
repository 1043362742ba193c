"""A payment at the window for one unit settles that unit's charges (issue 11 §8): not the
owner's other units, the receipt lines name their unit, and a payment naming a unit the payer
neither owns, rents nor pays for is refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.payments.models import Allocation, Payment
from wuye.payments.services import payment_take

from .conftest import TODAY, books

D = Decimal


@pytest.fixture
def second_unit(owner, building):
    """1-1-302, also owned (and paid for) by the owner of 1-1-301."""
    from wuye.registry.models import Unit, UnitParty

    other = Unit.objects.create(
        estate=building.estate,
        building=building,
        number="1-1-302",
        floor=3,
        gross_area=D("89.50"),
        handover_date=date(2025, 6, 1),
        fee_start_date=date(2025, 7, 1),
    )
    UnitParty.objects.create(
        estate=other.estate, unit=other, party=owner, start_date=date(2025, 6, 1), is_payer=True
    )
    return other


def _charge(unit, party, item, period, amount):
    """An open charge of `unit`, posted Dr RECEIVABLE Cr revenue as a bill run posts it."""
    from wuye.billing.testing import charge_posted

    return charge_posted(unit, party, period, amount, item=item)


def test_a_payment_for_one_unit_settles_that_units_charges_only(
    cashier, owner, unit, second_unit, shift, property_item, estate
):
    # given the owner's 1-1-302 owes an older January and 1-1-301 owes March
    january_302 = _charge(second_unit, owner, property_item, "2026-01", "250.60")
    march_301 = _charge(unit, owner, property_item, "2026-03", "250.60")
    # when 250.60 is paid at the window for 1-1-301, no charge ticked
    paid = payment_take(
        actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    # then 1-1-301's March is paid and 1-1-302's January is still owed
    march_301.refresh_from_db()
    january_302.refresh_from_db()
    assert march_301.status == Charge.Status.PAID
    assert january_302.outstanding == D("250.60")
    # and every receipt line names its unit
    lines = [line for line in paid.receipt.lines if line["kind"] == "charge"]
    assert [(line["unit"], line["period"]) for line in lines] == [("1-1-301", "2026-03")]
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == D("250.60")


def test_more_than_the_unit_owes_is_refused_unless_kept_as_prepayment(
    cashier, owner, unit, second_unit, shift, property_item
):
    _charge(second_unit, owner, property_item, "2026-01", "250.60")
    _charge(unit, owner, property_item, "2026-03", "250.60")
    # 501.20 for 1-1-301 does not spill over to 1-1-302
    with pytest.raises(DomainError) as refused:
        payment_take(
            actor=cashier, party=owner, unit=unit, amount="501.20", channel="cash", today=TODAY
        )
    assert refused.value.code == "overpaid"


def test_a_payment_naming_a_unit_the_payer_has_nothing_to_do_with_is_refused(
    cashier, owner, unit, shift, property_item, estate
):
    from wuye.registry.models import Party

    stranger = Party.objects.create(estate=estate, name="赵六")
    _charge(unit, owner, property_item, "2026-03", "250.60")
    with pytest.raises(DomainError) as refused:
        payment_take(
            actor=cashier,
            party=stranger,
            unit=unit,
            amount="100.00",
            channel="cash",
            keep_change_as_prepayment=True,
            today=TODAY,
        )
    assert refused.value.code == "not_payer" and refused.value.field == "unit"
    assert "赵六" in refused.value.message and "1-1-301" in refused.value.message
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL"
)
def test_two_cashiers_take_payments_for_two_units_of_one_owner_at_once(
    monkeypatch, make_staff, estate, owner, unit, second_unit, property_item
):
    """Two windows, one owner, one unit each, at the same moment: each payment settles its
    own unit's charge, both are taken, no deadlock."""
    from wuye.payments.services import shift_open

    from .test_concurrency import _in_threads, _slow

    cashiers = [make_staff("cashier", estates=[estate]) for _ in range(2)]
    for c in cashiers:
        shift_open(actor=c, estate=estate, float_amount="0", today=TODAY)
    january_302 = _charge(second_unit, owner, property_item, "2026-01", "250.60")
    march_301 = _charge(unit, owner, property_item, "2026-03", "250.60")
    # each payment lingers after reading its charges, so the two overlap
    _slow(monkeypatch, "wuye.payments.services.payments:_apply", 0.4)
    units = [unit, second_unit]
    results = _in_threads(
        2,
        lambda i: payment_take(
            actor=cashiers[i],
            party=owner,
            unit=units[i],
            amount="250.60",
            channel="cash",
            today=TODAY,
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    paid_by = {a.charge_id: a.payment.unit_id for a in Allocation.objects.all()}
    assert paid_by == {march_301.pk: unit.pk, january_302.pk: second_unit.pk}
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
