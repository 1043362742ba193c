"""The two services the cashier window needs from billing: a waiver granted by an estate
policy (抹零, prepayment offers) and one unit's regular charge of one cycle raised ahead of the
bill run (paying ahead) -- priced, split and keyed exactly as the run would."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge, Waiver
from wuye.core.errors import DomainError
from wuye.fees.models import VacancyDiscount
from wuye.ledger import chart
from wuye.ledger.models import JournalEntry, Posting
from wuye.registry.models import Party, Unit, UnitParty

D = Decimal
pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def make_unit(building, number, area="100.00", **fields):
    return Unit.objects.create(
        estate=building.estate,
        building=building,
        number=number,
        gross_area=None if area is None else D(area),
        fee_start_date=fields.pop("fee_start_date", date(2025, 1, 1)),
        **fields,
    )


def own(unit, name, start=date(2025, 1, 1), end=None, **fields):
    party = Party.objects.create(estate=unit.estate, name=name)
    UnitParty.objects.create(
        estate=unit.estate, unit=unit, party=party, start_date=start, end_date=end, **fields
    )
    return party


def ahead(finance, unit, item, period="2026-12"):
    return services.charge_period_create(
        actor=finance, unit=unit, fee_item=item, period=period, today=TODAY
    )


# --- waiver_grant ---------------------------------------------------------------------------


@pytest.fixture
def open_charge(owner, unit, property_fee, finance):
    """December 2026 property fee of the fixture unit: 89.50 m² x 2.80 = 250.60, posted."""
    return ahead(finance, unit, property_fee)[0]


def grant(actor, charge, amount="0.60", key="round:1", policy="small_change"):
    return services.waiver_grant(
        actor=actor,
        charge=charge,
        amount=amount,
        reason="抹零",
        idempotency_key=key,
        day=TODAY,
        policy=policy,
    )


def test_a_policy_waiver_is_approved_and_posted_at_once(
    open_charge, make_staff, estate, books_balance
):
    # given a cashier (no waiver permissions of billing at all)
    cashier = make_staff("cashier", estates=[estate])
    # when the estate's small-change policy waives 0.60
    waiver = grant(cashier, open_charge)
    # then the waiver is approved, by policy, and posted Dr WAIVERS Cr RECEIVABLE
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.APPROVED
    assert waiver.decision_note == "estate policy: small_change"
    assert waiver.decided_by == cashier and waiver.entry_id
    lines = {
        (p.account.code, p.debit, p.credit)
        for p in Posting.objects.filter(entry_id=waiver.entry_id)
    }
    assert lines == {(chart.WAIVERS, D("0.60"), D("0.00")), (chart.RECEIVABLE, D("0"), D("0.60"))}
    open_charge.refresh_from_db()
    assert open_charge.outstanding == D("250.00")
    assert books_balance(estate) == (D("250.00"), D("250.00"))


def test_granting_again_with_the_same_key_waives_once(open_charge, finance, estate, books_balance):
    # given a waiver granted
    first = grant(finance, open_charge)
    # when the same request is retried
    again = grant(finance, open_charge)
    # then it is the same waiver, posted once, and the books still agree
    assert again.pk == first.pk
    assert Waiver.objects.count() == 1
    assert JournalEntry.objects.filter(source_type="waiver").count() == 1
    open_charge.refresh_from_db()
    assert open_charge.outstanding == D("250.00")
    assert books_balance(estate) == (D("250.00"), D("250.00"))


def test_a_key_reused_for_another_amount_is_refused(open_charge, finance):
    grant(finance, open_charge, amount="0.60")
    with pytest.raises(DomainError) as err:
        grant(finance, open_charge, amount="0.50")
    assert err.value.code == "conflict"


def test_a_policy_waiver_never_waives_more_than_is_owed(open_charge, finance):
    with pytest.raises(DomainError) as err:
        grant(finance, open_charge, amount="250.61", policy="prepayment_offer")
    assert err.value.field == "amount"
    assert not Waiver.objects.exists()
    # the whole outstanding may be waived (a free month of an offer)
    grant(finance, open_charge, amount="250.60", key="offer:1", policy="prepayment_offer")
    open_charge.refresh_from_db()
    assert (open_charge.outstanding, open_charge.status) == (D("0.00"), Charge.Status.WAIVED)


def test_only_a_named_estate_policy_skips_approval(open_charge, finance):
    with pytest.raises(DomainError) as err:
        grant(finance, open_charge, policy="goodwill")
    assert err.value.field == "policy"
    assert not Waiver.objects.exists()


def test_approved_and_granted_waivers_post_alike(open_charge, finance, supervisor):
    # given one waiver approved by a supervisor and one granted by policy on the same charge
    asked = services.waiver_request(actor=finance, charge=open_charge, amount="10.00", reason="x")
    approved = services.waiver_approve(actor=supervisor, waiver=asked)
    granted = grant(finance, open_charge)

    # then both entries have the same shape: Dr WAIVERS (party), Cr RECEIVABLE (no party)
    def shape(waiver):
        return sorted(
            (p.account.code, p.debit > 0, p.party_id is not None)
            for p in Posting.objects.filter(entry_id=waiver.entry_id)
        )

    assert (
        shape(approved)
        == shape(granted)
        == [
            (chart.RECEIVABLE, False, False),
            (chart.WAIVERS, True, True),
        ]
    )


# --- charge_period_create -------------------------------------------------------------------


def test_a_charge_raised_ahead_is_not_billed_again_by_the_run(
    owner, unit, property_fee, finance, bill, books_balance
):
    # given December's property fee raised ahead at the window
    [charge] = ahead(finance, unit, property_fee)
    assert (charge.party, charge.amount, charge.run_id) == (owner, D("250.60"), None)
    assert charge.bill_date == TODAY and charge.entry_id
    # when December's bill run comes
    run = bill("2026-12")
    # then it adds nothing for the unit and item, and the ledger still equals the subledger
    assert run.charges_created == 0
    assert Charge.objects.filter(unit=unit, fee_item=property_fee).count() == 1
    assert books_balance(unit.estate) == (D("250.60"), D("250.60"))


def test_raising_the_same_cycle_again_returns_the_charge_raised(
    owner, unit, property_fee, finance, books_balance
):
    first = ahead(finance, unit, property_fee)
    again = ahead(finance, unit, property_fee)
    assert [c.pk for c in again] == [c.pk for c in first]
    assert JournalEntry.objects.filter(source_type="charge").count() == 1
    assert books_balance(unit.estate) == (D("250.60"), D("250.60"))


def test_a_charge_the_run_already_raised_is_returned_as_is(
    owner, unit, property_fee, finance, bill, books_balance
):
    # given December already billed by a run
    bill("2026-12")
    billed = Charge.objects.get()
    entries = JournalEntry.objects.count()
    # when the window asks for December
    [charge] = ahead(finance, unit, property_fee)
    # then it gets the run's charge, and nothing more is posted
    assert charge.pk == billed.pk and charge.run_id == billed.run_id
    assert JournalEntry.objects.count() == entries
    assert books_balance(unit.estate) == (D("250.60"), D("250.60"))


def test_a_cycle_the_item_is_not_billed_in_is_refused(owner, unit, make_item, finance):
    parking = make_item("PARK", "车位管理费", rate="150", basis="per_unit_month", cycle="quarterly")
    with pytest.raises(DomainError) as err:
        ahead(finance, unit, parking, "2026-12")
    assert err.value.field == "period"
    assert not Charge.objects.exists()


def test_a_unit_without_a_payer_is_refused(unit, property_fee, finance):
    with pytest.raises(DomainError) as err:
        ahead(finance, unit, property_fee)
    assert "no payer" in err.value.message
    assert not Charge.objects.exists()


def _fee_start_mid_cycle(building, name):
    unit = make_unit(building, name, "95.37", fee_start_date=date(2027, 1, 17))
    own(unit, f"{name}业主")
    return unit


def _vacant(building, name):
    unit = make_unit(building, name, "120.00")
    own(unit, f"{name}业主")
    VacancyDiscount.objects.create(
        estate=unit.estate,
        unit=unit,
        start_date=date(2027, 1, 10),
        end_date=date(2027, 2, 5),
        status=VacancyDiscount.Status.APPROVED,
    )
    return unit


def _sold_mid_cycle(building, name):
    unit = make_unit(building, name, "88.88")
    own(unit, f"{name}卖方", end=date(2027, 2, 11))
    own(unit, f"{name}买方", start=date(2027, 2, 12))
    return unit


def _payer_designated(building, name):
    unit = make_unit(building, name, "77.77")
    own(unit, f"{name}业主")
    own(unit, f"{name}租户", role=UnitParty.Role.TENANT, is_payer=True)
    return unit


@pytest.mark.parametrize(
    "setup", [_fee_start_mid_cycle, _vacant, _sold_mid_cycle, _payer_designated]
)
@pytest.mark.parametrize("basis", ["per_area_month", "per_unit_month"])
def test_a_charge_raised_ahead_costs_what_the_run_charges_a_twin_unit(
    building, make_item, finance, bill, books_balance, setup, basis
):
    # given a quarterly fee rounded up to the jiao, with a vacancy rate, and two twin units
    item = make_item(
        "SVC",
        "服务费",
        rate="2.35" if basis == "per_area_month" else "133.33",
        basis=basis,
        vacancy_rate="0.4",
        cycle="quarterly",
        rounding_unit="jiao",
        rounding_mode="up",
    )
    early, twin = setup(building, "A-101"), setup(building, "B-101")
    # when one is charged ahead for the quarter from January 2027 and the run bills the other
    raised = ahead(finance, early, item, "2027-01")
    run = bill("2027-01")

    # then both carry the same parts, days, amounts and kind of payer
    def parts(unit):
        return [
            (
                c.part,
                c.period_start,
                c.period_end,
                c.amount,
                c.quantity,
                c.rate,
                c.party.name[len(unit.number) :],
            )
            for c in Charge.objects.filter(unit=unit).order_by("part").select_related("party")
        ]

    assert parts(early) == parts(twin) and parts(early)
    assert [c.pk for c in raised] == [c.pk for c in Charge.objects.filter(unit=early)]
    # and the run billed only the twin; the books agree
    assert set(Charge.objects.filter(run=run).values_list("unit_id", flat=True)) == {twin.pk}
    gl, sub = books_balance(building.estate)
    assert gl == sub
