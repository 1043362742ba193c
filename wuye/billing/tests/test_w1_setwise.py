"""The bill run's set-wise SQL (plain units) bills every unit exactly as the per-unit Python
calculation would, whatever the unit's owners, payers and tenants over time; a re-run adds
nothing, and its shortcut (every unit already billed) never skips a unit still to bill."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from wuye.billing import services
from wuye.billing.models import Charge
from wuye.billing.periods import Period
from wuye.billing.services import runs
from wuye.fees.models import FeeItem, FeeStandard
from wuye.registry.models import Building, Estate, Party, Unit, UnitParty

D = Decimal
PERIOD = "2026-12"
START = date(2026, 12, 1)

relation = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["owner", "owner", "tenant"]),
        "is_payer": st.booleans(),
        "start": st.integers(-400, 45),  # days from the cycle's first day
        "days": st.one_of(st.none(), st.integers(0, 400)),  # None: open-ended
    }
)
unit_spec = st.fixed_dictionaries(
    {
        "area": st.one_of(st.none(), st.decimals("20.00", "300.00", places=2)),
        "fee_start": st.integers(-400, 45),
        "active": st.booleans(),
        "relations": st.lists(relation, max_size=3),
    }
)


@pytest.mark.django_db
class TestSetWiseEqualsOneByOne(TestCase):
    def setUp(self):
        self.estate = Estate.objects.create(code="S", name="集合小区")
        self.building = Building.objects.create(estate=self.estate, code="1", name="1栋")
        self.item = FeeItem.objects.create(
            estate=self.estate,
            code="PROPERTY",
            name="物业费",
            kind="property",
            basis="per_area_month",
            rounding_unit="jiao",
            rounding_mode="half_up",
        )
        self.standard = FeeStandard.objects.create(
            estate=self.estate,
            fee_item=self.item,
            version=1,
            rate=D("2.8765"),
            effective_from=date(2020, 1, 1),
            status="published",
        )

    def make_units(self, specs) -> list[Unit]:
        units = []
        for i, spec in enumerate(specs):
            unit = Unit.objects.create(
                estate=self.estate,
                building=self.building,
                number=f"1-{i:03d}",
                gross_area=spec["area"],
                fee_start_date=START + timedelta(days=spec["fee_start"]),
                is_active=spec["active"],
            )
            for j, rel in enumerate(spec["relations"]):
                start = START + timedelta(days=rel["start"])
                end = None if rel["days"] is None else start + timedelta(days=rel["days"])
                party = Party.objects.create(estate=self.estate, name=f"{i}-{j}")
                UnitParty.objects.create(
                    estate=self.estate,
                    unit=unit,
                    party=party,
                    role=rel["role"],
                    is_payer=rel["is_payer"],
                    start_date=start,
                    end_date=end,
                )
            units.append(unit)
        return units

    def one_by_one(self) -> set[tuple]:
        """What the per-unit calculation bills for every active unit (nothing written)."""
        plan = next(
            p for p in runs.plan_estate(self.estate, Period.parse(PERIOD), date(2027, 1, 31))
        )
        ids = list(
            Unit.objects.filter(estate=self.estate, is_active=True).values_list("id", flat=True)
        )
        rows = runs._compute_units(plan, self.standard, ids, {"no payer": [], "no gross area": []})
        return {(r.unit_id, r.party_id, r.part, r.start, r.end, r.amount) for r in rows}

    def bill(self):
        run = services.billing_run_create(
            actor=None, estate=self.estate, period=PERIOD, as_of=date(2027, 1, 31)
        )
        return services.billing_run_post(run=run, actor=None)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(specs=st.lists(unit_spec, min_size=1, max_size=8))
    def test_the_run_bills_each_unit_as_the_per_unit_calculation(self, specs):
        self.make_units(specs)
        expected = self.one_by_one()
        # when the period is billed
        run = self.bill()
        # then the run raised exactly the per-unit charges, and posted their sum
        got = {
            (c.unit_id, c.party_id, c.part, c.period_start, c.period_end, c.amount)
            for c in Charge.objects.filter(run=run)
        }
        assert got == expected
        assert run.charges_created == len(expected)
        assert run.total_amount == sum((e[-1] for e in expected), D("0.00"))
        # and a re-run adds nothing
        assert self.bill().charges_created == 0

    def test_a_billed_unit_made_inactive_does_not_hide_a_new_unit(self):
        # given a unit billed for December, then made inactive (merged)
        first, later = self.make_units(
            [
                {"area": D("80.00"), "fee_start": -400, "active": True, "relations": []},
                {"area": D("60.00"), "fee_start": -400, "active": True, "relations": []},
            ]
        )
        for unit in (first, later):
            UnitParty.objects.create(
                estate=self.estate,
                unit=unit,
                party=Party.objects.create(estate=self.estate, name=unit.number),
                start_date=date(2025, 1, 1),
                end_date=None if unit is first else date(2025, 1, 1),
            )
        assert self.bill().charges_created == 1
        Unit.objects.filter(pk=first.pk).update(is_active=False)
        # and the other unit gets its owner only now: as many active units as charges
        UnitParty.objects.create(
            estate=self.estate,
            unit=later,
            party=Party.objects.create(estate=self.estate, name="买家"),
            start_date=date(2025, 2, 1),
        )
        # when December is billed again
        again = self.bill()
        # then the new owner's unit is billed, not skipped as "all billed"
        assert again.charges_created == 1
        assert Charge.objects.get(run=again).unit_id == later.pk
