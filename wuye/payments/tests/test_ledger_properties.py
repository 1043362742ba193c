"""Hypothesis: allocations never exceed a charge or a payment; the ledger balances and agrees
with the subledgers after any sequence of payments, refunds, voids and reversals."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from wuye.payments.calculations import OpenCharge, allocate

amounts = st.decimals(min_value=0, max_value=Decimal("5000"), places=2)


@given(
    amount=amounts,
    balances=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2), max_size=8),
    designate=st.booleans(),
)
def test_allocations_never_exceed_a_charge_or_the_payment(amount, balances, designate):
    from datetime import date

    charges = [
        OpenCharge(id=i + 1, outstanding=b, rank_due=date(2026, 1 + i % 12, 1), period="2026-01")
        for i, b in enumerate(balances)
    ]
    designated = [c.id for c in reversed(charges)] if designate else None
    plan, remainder = allocate(amount, charges, designated=designated)
    by_id = {c.id: c for c in charges}
    assert all(0 < part <= by_id[cid].outstanding for cid, part in plan)
    assert sum((p for _, p in plan), Decimal(0)) + remainder == amount
    assert remainder >= 0
    assert remainder == 0 or sum(c.outstanding for c in charges) < amount


class LedgerAgreesWithSubledger(TestCase):
    """A sequence of window operations on one owner; after each, the books agree."""

    @classmethod
    def setUpTestData(cls):
        from datetime import date

        from django.contrib.auth.models import Group

        from wuye.accounts.roles import sync_roles
        from wuye.fees import services as fees
        from wuye.payments.services import shift_open
        from wuye.registry.models import Building, Estate, Party, StaffProfile, Unit, UnitParty

        sync_roles()
        from django.contrib.auth import get_user_model

        User = get_user_model()
        cls.estate = Estate.objects.create(code="HP", name="合屏")
        users = {}
        for role in ("cashier", "supervisor", "finance"):
            u = User.objects.create_user(username=f"h-{role}", password="x")
            u.groups.add(Group.objects.get(name=role))
            StaffProfile.objects.create(user=u).estates.set([cls.estate])
            users[role] = User.objects.get(pk=u.pk)
        cls.users = users
        b = Building.objects.create(estate=cls.estate, code="1", name="1栋")
        cls.unit = Unit.objects.create(
            estate=cls.estate,
            building=b,
            number="1-101",
            gross_area=Decimal("100.00"),
            fee_start_date=date(2026, 1, 1),
        )
        cls.party = Party.objects.create(estate=cls.estate, name="李娜")
        UnitParty.objects.create(
            estate=cls.estate, unit=cls.unit, party=cls.party, start_date=date(2025, 1, 1)
        )
        item = fees.fee_item_create(
            actor=users["finance"],
            estate=cls.estate,
            code="PROPERTY",
            name="物业服务费",
            kind="property",
            basis="per_area_month",
        )
        std = fees.standard_create(
            actor=users["finance"],
            fee_item=item,
            rate=Decimal("2.00"),
            effective_from=date(2026, 1, 1),
        )
        fees.standard_approve(actor=users["supervisor"], standard=std)
        fees.standard_publish(actor=users["finance"], standard=std, today=date(2025, 12, 1))
        cls.item = item
        shift_open(actor=users["cashier"], estate=cls.estate, today=date(2026, 3, 10))

    @settings(max_examples=15)
    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["pay", "ahead", "void", "refund", "apply"]),
                st.decimals(min_value=Decimal("1"), max_value=Decimal("900"), places=2),
            ),
            min_size=1,
            max_size=6,
        )
    )
    def test_books_agree_after_any_sequence(self, ops):
        from datetime import date

        from wuye.core.errors import DomainError
        from wuye.payments.models import Payment
        from wuye.payments.services import (
            PayAhead,
            payment_refund,
            payment_take,
            payment_void,
            prepayment_apply,
        )

        from .conftest import books

        today = date(2026, 3, 10)
        cashier, supervisor = self.users["cashier"], self.users["supervisor"]
        for op, amount in ops:
            try:
                if op == "pay":
                    payment_take(
                        actor=cashier,
                        party=self.party,
                        amount=amount,
                        channel="cash",
                        keep_change_as_prepayment=True,
                        today=today,
                    )
                elif op == "ahead":
                    payment_take(
                        actor=cashier,
                        party=self.party,
                        unit=self.unit,
                        amount=amount,
                        channel="cash",
                        pay_ahead=PayAhead(fee_item=self.item, amount=amount),
                        today=today,
                    )
                elif op == "apply":
                    prepayment_apply(actor=cashier, party=self.party, today=today)
                else:
                    last = (
                        Payment.objects.filter(party=self.party, status="posted")
                        .exclude(channel="prepayment")
                        .order_by("-id")
                        .first()
                    )
                    if last is None:
                        continue
                    if op == "void":
                        payment_void(
                            requested_by=cashier,
                            approved_by=supervisor,
                            payment=last,
                            reason="test",
                            today=today,
                        )
                    else:
                        live = {
                            a.charge_id: a.amount
                            for a in last.allocations.filter(reverses__isnull=True)
                            if not a.reversed_by.exists()
                        }
                        cid = next(iter(live), None)
                        payment_refund(
                            requested_by=cashier,
                            approved_by=supervisor,
                            payment=last,
                            reason="test",
                            charges={cid: str(live[cid])} if cid else {},
                            from_prepayment="0",
                            today=today,
                        )
            except DomainError:
                pass  # a refused operation must leave nothing behind; the books still agree
            b = books(self.estate)
            assert b["debits"] == b["credits"]
            assert b["receivable"] == b["open_charges"]
            assert b["prepayments"] == b["movements"]
            for p in Payment.objects.filter(party=self.party):
                total = sum((a.amount for a in p.allocations.all()), Decimal(0))
                assert 0 <= total <= p.amount
