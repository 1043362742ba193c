"""Bill runs: what is billed, to whom, how much; idempotency; refusals; cancelling."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import BillingRun, Charge, RunPosting
from wuye.core.errors import DomainError, PermissionDenied
from wuye.fees.models import FeeItem, FeeStandard, VacancyDiscount
from wuye.ledger.models import JournalEntry
from wuye.registry.models import Party, Unit, UnitParty

D = Decimal
pytestmark = pytest.mark.django_db


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


def test_a_run_bills_area_times_rate_to_the_owner_and_posts_one_entry(
    owner, property_fee, bill, books_balance
):
    # when
    run = bill("2026-12")
    # then
    charge = Charge.objects.get()
    assert (charge.party, charge.amount, charge.outstanding) == (owner, D("250.60"), D("250.60"))
    assert charge.period == "2026-12" and charge.due_date == date(2026, 12, 31)
    assert charge.label == "2026-12 物业服务费 89.50㎡×2.8"
    assert run.status == BillingRun.Status.POSTED and run.charges_created == 1
    entry = JournalEntry.objects.get(source_type="billing_run")
    assert {(p.account.code, p.debit, p.credit) for p in entry.postings.all()} == {
        ("1122", D("250.60"), D("0.00")),
        ("6001.PROPERTY", D("0.00"), D("250.60")),
    }
    assert books_balance(owner.estate) == (D("250.60"), D("250.60"))


def test_running_the_period_again_adds_nothing(owner, property_fee, bill):
    bill("2026-12")
    # when
    again = bill("2026-12")
    # then
    assert again.charges_created == 0
    assert Charge.objects.count() == 1
    assert JournalEntry.objects.filter(source_type="billing_run").count() == 1


def test_a_killed_run_resumed_adds_only_what_is_missing(
    building, owner, unit, property_fee, finance, books_balance
):
    # given a run that billed one unit before dying, and a second unit it never reached
    run = services.billing_run_create(
        actor=finance, estate=unit.estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    services.billing_run_post(run=run, actor=finance)
    late = make_unit(building, "1-1-302", "50.00")
    own(late, "李娜")
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.FAILED)
    run.refresh_from_db()
    # when it is resumed
    services.billing_run_post(run=run, actor=finance)
    # then only the missing charge and its delta are posted
    assert Charge.objects.count() == 2
    assert sorted(RunPosting.objects.values_list("amount", flat=True)) == [D("140.00"), D("250.60")]
    assert books_balance(unit.estate) == (D("390.60"), D("390.60"))


def test_a_new_owner_is_not_billed_for_the_previous_owners_days(building, property_fee, bill):
    # given a unit sold on 16 December 2026
    unit = make_unit(building, "2-1-101", "310.00")
    seller = own(unit, "王强", end=date(2026, 12, 15))
    buyer = own(unit, "赵敏", start=date(2026, 12, 16))
    # when
    bill("2026-12")
    bill("2027-01")
    # then December is split by days and January is the buyer's alone
    dec = {c.party: c.amount for c in Charge.objects.filter(period="2026-12")}
    assert dec == {seller: D("420.00"), buyer: D("448.00")}  # 868 x 15/31, 868 x 16/31
    jan = Charge.objects.get(period="2027-01")
    assert (jan.party, jan.amount) == (buyer, D("868.00"))


def test_a_fee_start_in_leap_february_is_prorated(building, property_fee, bill):
    unit = make_unit(building, "3-1-101", "100.00", fee_start_date=date(2028, 2, 16))
    own(unit, "周杰")
    bill("2028-01")
    bill("2028-02", as_of=date(2028, 3, 1))
    # then nothing for January, 280 x 14/29 for February
    assert list(Charge.objects.values_list("period", "amount")) == [("2028-02", D("135.17"))]


def test_approved_vacancy_is_billed_at_the_vacancy_rate(building, make_item, bill):
    make_item(vacancy_rate="0.5")
    unit = make_unit(building, "4-1-101", "100.00")
    own(unit, "钱多")
    VacancyDiscount.objects.create(
        estate=unit.estate,
        unit=unit,
        start_date=date(2026, 1, 1),
        status=VacancyDiscount.Status.APPROVED,
    )
    bill("2026-12")
    assert Charge.objects.get().amount == D("140.00")


def test_quarterly_items_are_billed_only_in_cycle_months(owner, make_item, bill):
    make_item("PARK", "车位管理费", rate="150", basis="per_unit_month", cycle="quarterly")
    bill("2026-11")
    assert not Charge.objects.exists()
    bill("2027-01")
    charge = Charge.objects.get()
    assert (charge.amount, charge.period_end) == (D("450.00"), date(2027, 3, 31))


def test_advance_items_wait_until_advance_days_before_the_period(owner, make_item, finance):
    make_item(advance_days=10, timing="advance")
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 11, 20)
    )
    preview = services.billing_run_preview(run=run)
    assert "not billable before 2026-11-21" in preview["items"][0]["waiting"]
    services.billing_run_post(run=run, actor=finance)
    assert not Charge.objects.exists()
    # on the day it is billable it is billed, due 30 days after the bill date
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 11, 21)
    )
    services.billing_run_post(run=run, actor=finance)
    assert Charge.objects.get().due_date == date(2026, 12, 21)


def test_the_items_rounding_rule_applies_in_the_set_wise_insert(building, make_item, bill):
    make_item(rate="2.8", rounding_unit="yuan", rounding_mode="up")
    unit = make_unit(building, "5-1-101", "89.51")  # 250.628
    own(unit, "孙丽")
    bill("2026-12")
    assert Charge.objects.get().amount == D("251.00")


def test_a_run_for_a_closed_period_is_refused(owner, property_fee, finance, supervisor):
    services.billing_period_close(actor=supervisor, estate=owner.estate, period="2026-11")
    with pytest.raises(DomainError, match="closed"):
        services.billing_run_create(actor=finance, estate=owner.estate, period="2026-11")


def test_a_run_refuses_an_unpublished_standard_naming_the_item(owner, make_item, finance):
    make_item("CLEAN", "清洁费", status=FeeStandard.Status.APPROVED)
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    with pytest.raises(DomainError, match=r"清洁费 \(CLEAN\).*must be published"):
        services.billing_run_post(run=run, actor=finance)
    assert not Charge.objects.exists()


@pytest.mark.parametrize("period", ["2026-13", "202612"])
def test_a_malformed_period_is_refused(estate, finance, period):
    with pytest.raises(DomainError) as err:
        services.billing_run_create(actor=finance, estate=estate, period=period)
    assert err.value.field == "period"


def test_the_preview_names_units_without_area_and_writes_nothing(
    building, owner, property_fee, finance
):
    no_area = make_unit(building, "9-9-909", area=None)
    own(no_area, "吴用")
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    preview = services.billing_run_preview(run=run)
    item = preview["items"][0]
    assert (item["count"], item["amount"]) == (1, "250.60")
    assert {"reason": "no gross area", "count": 1, "units": ["9-9-909"]} in item["skipped"]
    assert not Charge.objects.exists()


def test_a_stopped_fee_is_billed_only_before_the_stop(owner, unit, property_fee, finance, bill):
    services.unit_fee_stop(
        actor=finance, unit=unit, fee_item=property_fee, from_date=date(2026, 12, 11), reason="回购"
    )
    bill("2026-12")
    bill("2027-01")
    assert list(Charge.objects.values_list("period", "amount")) == [("2026-12", D("80.84"))]


def test_cancelling_a_run_reverses_it_and_keeps_the_charges(
    owner, property_fee, bill, supervisor, books_balance
):
    run = bill("2026-12")
    # when
    services.billing_run_cancel(run=run, actor=supervisor, reason="wrong rate")
    # then
    charge = Charge.objects.get()
    assert (charge.status, charge.outstanding) == (Charge.Status.CANCELLED, D("0"))
    assert books_balance(owner.estate) == (D("0"), D("0"))
    assert JournalEntry.objects.filter(reverses__isnull=False).count() == 1
    # and the period can be billed again
    bill("2026-12")
    assert Charge.objects.filter(status=Charge.Status.OPEN).count() == 1


def test_only_a_supervisor_cancels_and_never_after_a_waiver(
    owner, property_fee, bill, finance, supervisor
):
    run = bill("2026-12")
    with pytest.raises(PermissionDenied):
        services.billing_run_cancel(run=run, actor=finance, reason="oops")
    waiver = services.waiver_request(
        actor=finance, charge=Charge.objects.get(), amount="10", reason="漏水"
    )
    services.waiver_approve(actor=supervisor, waiver=waiver)
    with pytest.raises(DomainError, match="already paid, waived"):
        services.billing_run_cancel(run=run, actor=supervisor, reason="oops")


def test_per_unit_type_standards_and_missing_types_are_reported(
    building, owner, make_item, finance
):
    item = make_item(rate="3.00", unit_type="residential")
    shop = make_unit(building, "S-101", "50.00", unit_type="commercial")
    own(shop, "商铺")
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    preview = services.billing_run_preview(run=run)
    skipped = preview["items"][0]["skipped"]
    assert skipped[0]["units"] == ["S-101"] and "no standard in force" in skipped[0]["reason"]
    services.billing_run_post(run=run, actor=finance)
    assert Charge.objects.get().amount == D("268.50")
    assert item.basis == FeeItem.Basis.PER_AREA_MONTH
