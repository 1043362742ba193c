"""Money invariants under random histories (hypothesis): the ledger balances, the RECEIVABLE
control account equals the open charges per estate, a party's statement balance equals its
open charges, the cached outstanding equals its recomputation, and a re-run adds nothing."""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from wuye.billing import services
from wuye.billing.models import Charge, Waiver
from wuye.billing.selectors import books_check, party_statement
from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem, FeeStandard
from wuye.ledger.models import Posting
from wuye.registry.models import Building, Estate, Party, ServiceContract, Unit, UnitParty

D = Decimal

step = st.one_of(
    st.tuples(st.just("bill"), st.sampled_from(["2026-11", "2026-12", "2027-01", "2027-02"])),
    st.tuples(st.just("waive"), st.integers(0, 30), st.integers(1, 100)),
    st.tuples(st.just("late"), st.integers(0, 200)),
    st.tuples(st.just("sell"), st.integers(0, 5), st.integers(1, 28)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
)


@pytest.mark.django_db
class TestBooksAlwaysAgree(TestCase):
    def setUp(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group, Permission

        from wuye.accounts.roles import sync_roles

        sync_roles()
        User = get_user_model()
        self.finance = User.objects.create_user("fin", password="x-very-long-1")
        self.finance.groups.add(Group.objects.get(name="finance"))
        self.boss = User.objects.create_user("boss", password="x-very-long-1")
        self.boss.groups.add(Group.objects.get(name="supervisor"))
        everywhere = Permission.objects.get(codename="access_all_estates")
        for u in (self.finance, self.boss):
            u.user_permissions.add(everywhere)
        self.finance = User.objects.get(pk=self.finance.pk)
        self.boss = User.objects.get(pk=self.boss.pk)
        self.estate = Estate.objects.create(code="P", name="性质小区")
        ServiceContract.objects.create(
            estate=self.estate,
            number="P-1",
            start_date=date(2020, 1, 1),
            has_late_fee_clause=True,
            late_fee_daily_rate=D("0.0005"),
            late_fee_cap_ratio=D("0.2"),
        )
        building = Building.objects.create(estate=self.estate, code="1", name="1栋")
        self.units = []
        for i in range(6):
            unit = Unit.objects.create(
                estate=self.estate,
                building=building,
                number=f"1-1-{i:03d}",
                gross_area=D("55.55") + i * D("13.37"),
                fee_start_date=date(2026, 11, 1 + 3 * i),
            )
            party = Party.objects.create(estate=self.estate, name=f"业主{i}")
            UnitParty.objects.create(
                estate=self.estate, unit=unit, party=party, start_date=date(2020, 1, 1)
            )
            self.units.append(unit)
        item = FeeItem.objects.create(
            estate=self.estate,
            code="PROPERTY",
            name="物业费",
            kind="property",
            basis="per_area_month",
            due_days=10,
        )
        FeeStandard.objects.create(
            estate=self.estate,
            fee_item=item,
            version=1,
            rate=D("3.1234"),
            effective_from=date(2020, 1, 1),
            status="published",
        )

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(step, min_size=1, max_size=8))
    def test_the_books_always_agree(self, steps):
        runs = []
        for s in steps:
            if s[0] == "bill":
                run = services.billing_run_create(
                    actor=self.finance, estate=self.estate, period=s[1], as_of=date(2027, 3, 1)
                )
                runs.append(services.billing_run_post(run=run, actor=self.finance))
                # a re-run straight after adds nothing
                again = services.billing_run_create(
                    actor=self.finance, estate=self.estate, period=s[1], as_of=date(2027, 3, 1)
                )
                assert services.billing_run_post(run=again, actor=self.finance).charges_created == 0
            elif s[0] == "waive":
                charges = list(Charge.objects.filter(status="open").order_by("id"))
                if charges:
                    charge = charges[s[1] % len(charges)]
                    amount = max(D("0.01"), (charge.outstanding * s[2] / 100).quantize(D("0.01")))
                    w = services.waiver_request(
                        actor=self.finance, charge=charge, amount=amount, reason="t"
                    )
                    services.waiver_approve(actor=self.boss, waiver=w)
            elif s[0] == "late":
                as_of = date(2027, 1, 1) + timedelta(days=s[1])
                services.late_fee_assess(estate=self.estate, as_of=as_of, today=as_of)
            elif s[0] == "sell":
                unit = self.units[s[1]]
                current = UnitParty.objects.filter(unit=unit, end_date__isnull=True).first()
                day = date(2027, 1, s[2])
                if current and current.start_date < day:
                    current.end_date = day.replace(day=day.day - 1) if day.day > 1 else day
                    if current.end_date >= current.start_date and day.day > 1:
                        current.save()
                        buyer = Party.objects.create(estate=self.estate, name="买家")
                        UnitParty.objects.create(
                            estate=self.estate, unit=unit, party=buyer, start_date=day
                        )
            elif s[0] == "cancel" and runs:
                run = runs[s[1] % len(runs)]
                with contextlib.suppress(DomainError):  # refusals are part of the history
                    services.billing_run_cancel(run=run, actor=self.boss, reason="t")
            self.assert_books_agree()

    def assert_books_agree(self):
        # every entry balances
        totals = Posting.objects.aggregate(d=Sum("debit"), c=Sum("credit"))
        assert (totals["d"] or 0) == (totals["c"] or 0)
        # the control account equals the subledger
        assert all(row.ok for row in books_check("P")), books_check("P")
        # each party's statement equals its open charges; caches equal their sources
        for party in Party.objects.filter(estate=self.estate):
            statement = party_statement(party)
            assert statement.closing == statement.open_charges
        for charge in Charge.objects.all():
            assert charge.outstanding == services.charge_outstanding_recompute(charge)
        assert not Waiver.objects.filter(status="approved", amount__lte=0).exists()
