"""Every figure against a small data set computed by hand (README "Definitions": the same
example). Three households billed 200.00 a month for 2026-10 .. 2026-12:

    Oct  A1 pays 10-10; B1 pays 500.00 on 10-15 (200.00 Oct, 300.00 kept as prepayment);
         A2 pays its Oct charge and its late fee on 11-20 (recovered arrears in Nov).
    Nov  B1's Nov paid from prepayment on 11-01; A1 pays Nov and Dec (400.00) on 12-03, then
         100.00 of it on Nov is refunded on 12-05; 50.00 of A2's Nov is waived (in Dec).
    Dec  B1: 100.00 from prepayment on 12-01, 100.00 cash on 12-06 (after the month it was
         due from); A2 pays nothing.
"""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing.models import Charge
from wuye.reports import selectors
from wuye.reports.definitions import bucket_of, month_add, ratio, split_kind

D = Decimal
AS_OF = date(2026, 12, 7)


def test_pure_definitions():
    assert ratio(D("400.00"), D("600.00")) == D("0.6667")
    assert ratio(D("1"), D("0")) is None
    assert month_add("2026-12", 1) == "2027-01" and month_add("2026-01", -12) == "2025-01"
    assert split_kind("2026-11", "2026-12") == "arrears"
    assert split_kind("2026-12", "2026-12") == "current"
    assert split_kind("2027-01", "2026-12") == "advance"
    assert bucket_of(date(2026, 12, 31), AS_OF) == "not_due"
    assert bucket_of(date(2026, 12, 7), AS_OF) == "0_30"
    assert bucket_of(date(2026, 11, 6), AS_OF) == "31_90"
    assert bucket_of(date(2025, 12, 6), AS_OF) == "over_365"


@pytest.fixture
def _prepayment_by_hand():
    """The story applies B1's prepayment itself, on the days it names: the automatic use when
    charges fall due (payments, ADR 0012) would date it on the real today instead."""
    from wuye.billing import events
    from wuye.payments.apps import apply_prepayment_when_due

    events.off_charges_due(apply_prepayment_when_due)
    yield
    events.on_charges_due(apply_prepayment_when_due)


@pytest.fixture
def story(estate, households, bill, cashier, supervisor, finance, shift_on, _prepayment_by_hand):
    from wuye.billing.services import late_fee_assess, waiver_approve, waiver_request
    from wuye.payments.services import payment_refund, payment_take, prepayment_apply

    pa1, pa2, pb1 = (households[k][1] for k in ("A1", "A2", "B1"))

    def charge(party, period, kind="regular"):
        return Charge.objects.get(party=party, period=period, kind=kind)

    def pay(party, amount, day, channel="cash", **kw):
        shift_on(day)
        return payment_take(
            actor=cashier, party=party, amount=amount, channel=channel, today=day, **kw
        )

    bill("2026-10", date(2026, 10, 1))
    pay(pa1, "200.00", date(2026, 10, 10))
    pay(pb1, "500.00", date(2026, 10, 15), keep_change_as_prepayment=True)
    bill("2026-11", date(2026, 11, 1))
    prepayment_apply(actor=cashier, party=pb1, today=date(2026, 11, 1))
    late_fee_assess(estate=estate, as_of=date(2026, 11, 18))
    late = Charge.objects.get(kind="late_fee")
    assert late.amount > 0  # 200.00 x 0.0003 a day, past the 15 days of grace
    pay(pa2, D("200.00") + late.amount, date(2026, 11, 20), channel="pos", external_ref="POS-1")
    bill("2026-12", date(2026, 12, 1))
    prepayment_apply(actor=cashier, party=pb1, today=date(2026, 12, 1))
    paid = pay(pa1, "400.00", date(2026, 12, 3))
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=paid,
        reason="多收",
        amount="100.00",
        charges={charge(pa1, "2026-11").pk: "100.00"},
        refund_channel="cash",
        today=date(2026, 12, 5),
    )
    w = waiver_request(actor=finance, charge=charge(pa2, "2026-11"), amount="50.00", reason="维修")
    waiver_approve(actor=supervisor, waiver=w)
    pay(pb1, "100.00", date(2026, 12, 6))
    return {"late": late}


@pytest.fixture
def company(estate, story):
    return selectors.Scope(estate_ids=(estate.pk,))


def test_collection_rates(company):
    oct_, nov, dec = (
        selectors.period_rate(company, p, AS_OF) for p in ("2026-10", "2026-11", "2026-12")
    )
    assert (oct_.part, oct_.whole, oct_.rate) == (D("400.00"), D("600.00"), D("0.6667"))
    assert (nov.part, nov.whole, nov.waived) == (D("200.00"), D("550.00"), D("50.00"))
    assert nov.rate == D("0.3636")
    assert (dec.part, dec.whole, dec.rate) == (D("400.00"), D("600.00"), D("0.6667"))
    cum = selectors.cumulative_rate(company, "2026-10", AS_OF)
    assert (cum.part, cum.rate) == (D("600.00"), D("1.0000"))
    assert selectors.cumulative_rate(company, "2026-11", AS_OF).part == D("300.00")
    # seen at the end of October, November's bills and December's refund do not exist yet
    assert selectors.period_rate(company, "2026-10", date(2026, 10, 31)).part == D("400.00")
    year = selectors.year_rate(company, 2026, AS_OF)
    assert (year.part, year.whole, year.rate) == (D("1300.00"), D("1750.00"), D("0.7429"))


def test_household_and_clearance_rates(company):
    assert selectors.household_rate(company, "2026-10").rate == D("1.0000")
    nov = selectors.household_rate(company, "2026-11")
    assert (nov.part, nov.whole) == (D("1"), D("3"))
    assert selectors.household_rate(company, "2026-12").part == D("2")
    dec = selectors.clearance_rate(company, "2026-12")
    assert (dec.part, dec.whole, dec.rate) == (D("100.00"), D("400.00"), D("0.2500"))
    nov_clear = selectors.clearance_rate(company, "2026-11")
    assert (nov_clear.part, nov_clear.whole) == (D("200.00"), D("200.00"))
    owing = selectors.owing_households(company)
    assert (owing.part, owing.whole, owing.billed) == (D("2"), D("3"), D("450.00"))


def test_aging_and_arrears_by_building(company):
    buckets = {b.code: b.amount for b in selectors.aging(company, AS_OF)}
    assert buckets == {
        "not_due": D("200.00"),
        "0_30": D("250.00"),
        "31_90": D("0.00"),
        "91_180": D("0.00"),
        "181_365": D("0.00"),
        "over_365": D("0.00"),
    }
    rows = selectors.arrears_by_building(company)
    assert [(r.name, r.owing, r.units_owing, r.units_billed) for r in rows] == [
        ("1栋", D("450.00"), 2, 2)
    ]
    assert selectors.late_fees_owed(company) == D("0.00")


def test_every_payment_splits(company, story):
    late = story["late"].amount
    oct_ = selectors.payment_split(company, "2026-10")
    assert (oct_.current, oct_.arrears, oct_.prepayment, oct_.total) == (
        D("400.00"),
        D("0.00"),
        D("300.00"),
        D("700.00"),
    )
    nov = selectors.payment_split(company, "2026-11")
    assert (nov.current, nov.arrears, nov.late_fees) == (D("0.00"), D("200.00"), late)
    dec = selectors.payment_split(company, "2026-12")
    assert (dec.current, dec.arrears, dec.prepayment, dec.total) == (
        D("300.00"),
        D("100.00"),
        D("0.00"),
        D("400.00"),
    )
    # the split adds up to the money received less refunds, by method
    mix = selectors.channel_mix(company, date(2026, 12, 1), date(2026, 12, 31))
    assert [(r["channel"], r["received"], r["refunded"], r["net"]) for r in mix] == [
        ("cash", D("500.00"), D("100.00"), D("400.00"))
    ]
    nov_mix = selectors.channel_mix(company, date(2026, 11, 1), date(2026, 11, 30))
    assert sum(r["net"] for r in nov_mix) == nov.total


def test_drill_down_from_a_building_to_its_households(company, households):
    building = households["A1"][0].building
    scope = selectors.Scope(estate_ids=company.estate_ids, building_id=building.pk)
    charges = selectors.drill_charges(scope, selectors.Drill(as_of=AS_OF))
    rows = selectors.drill_households(charges)
    assert [(h.unit, h.party, h.outstanding) for h in rows] == [
        ("1-1-102", "李娜", D("350.00")),
        ("1-1-101", "张伟", D("100.00")),
    ]
    not_due = selectors.drill_charges(company, selectors.Drill(as_of=AS_OF, bucket="not_due"))
    assert [(c.unit.number, c.period, c.outstanding) for c in not_due] == [
        ("1-1-102", "2026-12", D("200.00"))
    ]
