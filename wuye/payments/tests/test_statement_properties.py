"""Hypothesis: billing's money invariants still hold with money in the mix. After any history
of bill runs, waivers, late fees, run cancellations, payments (with change kept as prepayment),
uses of prepayment, voids and refunds: the ledger balances, the RECEIVABLE control account
equals the open charges, every cached outstanding equals its recomputation, and each party's
statement closes at its open charges less its unused prepayment.

(Billing's own property, without payments, is billing/tests/test_properties.py; this one lives
with payments because billing may not import the payments app.)"""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from wuye.billing import services as billing
from wuye.billing.models import Charge
from wuye.billing.selectors import books_check, party_statement
from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem, FeeStandard
from wuye.ledger.models import Posting
from wuye.payments.models import Payment
from wuye.payments.services import (
    payment_refund,
    payment_take,
    payment_void,
    prepayment_apply,
    shift_open,
)
from wuye.registry.models import Building, Estate, Party, ServiceContract, Unit, UnitParty

D = Decimal
DAY = date(2027, 3, 1)  # the business day of every payment and reversal
PERIODS = ["2026-11", "2026-12", "2027-01", "2027-02"]

# pay: party index, percent of what the party owes (over 100: change kept as prepayment)
pay = st.tuples(st.just("pay"), st.integers(0, 3), st.integers(1, 150))
void = st.tuples(st.just("void"), st.integers(0, 20))
# refund: which payment, percent of one charge it paid, and its prepayment too or not
refund = st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100), st.booleans())
step = st.one_of(
    st.tuples(st.just("bill"), st.sampled_from(PERIODS)),
    st.tuples(st.just("waive"), st.integers(0, 30), st.integers(1, 100)),
    st.tuples(st.just("late"), st.integers(0, 200)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("apply"), st.integers(0, 3)),
    # money moves twice as often as anything else: it is what this property is about
    pay,
    pay,
    void,
    refund,
    refund,
)
# every history starts with something billed and paid, so reversals have something to reverse
history = st.tuples(st.sampled_from(PERIODS), pay, st.lists(step, min_size=1, max_size=10)).map(
    lambda t: [("bill", t[0]), t[1], *t[2]]
)


@pytest.mark.django_db
class TestBooksAgreeWithPayments(TestCase):
    def setUp(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from wuye.accounts.roles import sync_roles
        from wuye.registry.models import StaffProfile

        sync_roles()
        User = get_user_model()
        self.estate = Estate.objects.create(code="PP", name="性质收款小区")
        users = {}
        for role in ("finance", "supervisor", "cashier"):
            user = User.objects.create_user(f"pp-{role}", password="x-very-long-1")
            user.groups.add(Group.objects.get(name=role))
            StaffProfile.objects.create(user=user).estates.set([self.estate])
            users[role] = User.objects.get(pk=user.pk)
        self.finance, self.boss, self.cashier = (
            users["finance"],
            users["supervisor"],
            users["cashier"],
        )
        ServiceContract.objects.create(
            estate=self.estate,
            number="PP-1",
            start_date=date(2020, 1, 1),
            has_late_fee_clause=True,
            late_fee_daily_rate=D("0.0005"),
            late_fee_cap_ratio=D("0.2"),
        )
        building = Building.objects.create(estate=self.estate, code="1", name="1栋")
        self.parties = []
        for i in range(4):
            unit = Unit.objects.create(
                estate=self.estate,
                building=building,
                number=f"1-1-{i:03d}",
                gross_area=D("55.55") + i * D("13.37"),
                fee_start_date=date(2026, 11, 1 + 5 * i),
            )
            party = Party.objects.create(estate=self.estate, name=f"业主{i}")
            UnitParty.objects.create(
                estate=self.estate, unit=unit, party=party, start_date=date(2020, 1, 1)
            )
            self.parties.append(party)
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
        shift_open(actor=self.cashier, estate=self.estate, today=DAY)

    def _payments(self):
        return list(
            Payment.objects.filter(estate=self.estate, status="posted")
            .exclude(channel="prepayment")
            .order_by("id")
        )

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=history)
    def test_each_partys_balance_is_its_open_charges_less_its_prepayment(self, steps):
        runs = []
        for s in steps:
            # refusals (nothing to pay, a touched run, a used prepayment) are part of the
            # history: they must leave nothing behind
            with contextlib.suppress(DomainError):
                self._do(s, runs)
            self.assert_books_agree()

    def _do(self, s, runs) -> None:
        kind = s[0]
        if kind == "bill":
            run = billing.billing_run_create(
                actor=self.finance, estate=self.estate, period=s[1], as_of=DAY
            )
            runs.append(billing.billing_run_post(run=run, actor=self.finance))
        elif kind == "waive":
            charges = list(Charge.objects.filter(status="open").order_by("id"))
            if charges:
                charge = charges[s[1] % len(charges)]
                amount = max(D("0.01"), (charge.outstanding * s[2] / 100).quantize(D("0.01")))
                w = billing.waiver_request(
                    actor=self.finance, charge=charge, amount=amount, reason="t"
                )
                billing.waiver_approve(actor=self.boss, waiver=w)
        elif kind == "late":
            as_of = date(2027, 1, 1) + timedelta(s[1])
            billing.late_fee_assess(estate=self.estate, as_of=as_of, today=as_of)
        elif kind == "cancel" and runs:
            billing.billing_run_cancel(run=runs[s[1] % len(runs)], actor=self.boss, reason="t")
        elif kind == "pay":
            party = self.parties[s[1]]
            owed = Charge.objects.filter(party=party).aggregate(s=Sum("outstanding"))["s"] or 0
            amount = max(D("0.01"), (D(owed) * s[2] / 100).quantize(D("0.01")))
            payment_take(
                actor=self.cashier,
                party=party,
                amount=amount,
                channel="cash",
                keep_change_as_prepayment=True,
                today=DAY,
            )
        elif kind == "apply":
            prepayment_apply(actor=self.cashier, party=self.parties[s[1]], today=DAY)
        elif kind in ("void", "refund"):
            payments = self._payments()
            if not payments:
                return
            payment = payments[s[1] % len(payments)]
            if kind == "void":
                payment_void(
                    requested_by=self.cashier,
                    approved_by=self.boss,
                    payment=payment,
                    reason="t",
                    today=DAY,
                )
                return
            live: dict[int, Decimal] = {}
            for a in payment.allocations.all():
                live[a.charge_id] = live.get(a.charge_id, D(0)) + a.amount
            live = {cid: amt for cid, amt in live.items() if amt > 0}
            charges = {}
            if live:
                cid = min(live)
                charges = {cid: str(max(D("0.01"), (live[cid] * s[2] / 100).quantize(D("0.01"))))}
            payment_refund(
                requested_by=self.cashier,
                approved_by=self.boss,
                payment=payment,
                reason="t",
                charges=charges,
                from_prepayment=str(payment.prepaid) if s[3] else "0",
                today=DAY,
            )

    def assert_books_agree(self):
        totals = Posting.objects.aggregate(d=Sum("debit"), c=Sum("credit"))
        assert (totals["d"] or 0) == (totals["c"] or 0)
        assert all(row.ok for row in books_check("PP")), books_check("PP")
        for party in self.parties:
            statement = party_statement(party)
            assert statement.closing == statement.open_charges - statement.prepaid, (
                party,
                statement.closing,
                statement.open_charges,
                statement.prepaid,
                [(x.kind, x.debit, x.credit) for x in statement.lines],
            )
        for charge in Charge.objects.all():
            assert charge.outstanding == billing.charge_outstanding_recompute(charge)
