"""The books under any sequence of money operations (issue 11, "Tests that must exist").

A hypothesis state machine drives one estate through bill / cancel run / pay / pay ahead /
apply prepayment / refund / void / a reversal requested now and decided later / credit note /
late fee / transfer of ownership / monthly revenue recognition, in any order, and after every
step checks what a finance manager signs for:

- the trial balance balances (debits = credits);
- RECEIVABLE in the general ledger = the open charges of the subledger;
- PREPAYMENTS in the general ledger = the prepayment subledger, and no party's pool (general
  or earmarked) is below zero;
- suspense (待查明款项) in the general ledger = the open exceptions (when the books have one);
- the contract liability (合同负债) = the fees raised ahead of their month and not yet
  recognised, less their credit notes (issue 11 §15);
- no charge below zero or above its amount;
- no money both refunded and applied: for every payment, what is still applied to charges plus
  what was paid back never exceeds what was received.

Operations the engine refuses (DomainError) must leave nothing behind, so the invariants are
checked after refusals too. Each machine run builds its own estate, so examples do not share
rows (the test's transaction is rolled back at the end)."""

import contextlib
import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from wuye.core.errors import DomainError

TODAY = date(2026, 6, 20)
TRANSFER_ON = date(2026, 4, 1)
TENANT_ON = date(2026, 5, 1)  # 陈静 names his tenant 周敏 as the payer of 1-101
_machines = itertools.count(1)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("700"), places=2)


def _balance(estate, code) -> Decimal:
    from wuye.core.money import MoneySum
    from wuye.ledger.models import Posting

    r = Posting.objects.filter(estate=estate, account__code=code).aggregate(
        d=MoneySum("debit"), c=MoneySum("credit")
    )
    return (r["d"] or Decimal(0)) - (r["c"] or Decimal(0))


class Books(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        from wuye.fees import services as fees
        from wuye.payments.services import shift_open
        from wuye.registry.models import (
            Building,
            Estate,
            Party,
            ServiceContract,
            StaffProfile,
            Unit,
            UnitParty,
        )

        n = next(_machines)
        self.estate = Estate.objects.create(code=f"BM{n}", name=f"账本{n}", hotline="0755-86001234")
        ServiceContract.objects.create(
            estate=self.estate,
            number=f"BM{n}-1",
            start_date=date(2025, 1, 1),
            has_late_fee_clause=True,
            late_fee_daily_rate=Decimal("0.0005"),
            late_fee_grace_days=0,
        )
        self.users = {}
        for role in ("cashier", "supervisor", "finance"):
            u = get_user_model().objects.create_user(username=f"bm{n}-{role}", password="x")
            u.groups.add(Group.objects.get(name=role))
            StaffProfile.objects.create(user=u).estates.set([self.estate])
            self.users[role] = get_user_model().objects.get(pk=u.pk)
        b = Building.objects.create(estate=self.estate, code="1", name="1栋")
        self.units = [
            Unit.objects.create(
                estate=self.estate,
                building=b,
                number=f"1-{i}01",
                gross_area=Decimal(area),
                fee_start_date=date(2026, 1, 1),
            )
            for i, area in ((1, "89.37"), (2, "120.05"))
        ]
        self.parties = [
            Party.objects.create(estate=self.estate, name=name) for name in ("李娜", "王强")
        ]
        for unit, party in zip(self.units, self.parties, strict=True):
            UnitParty.objects.create(
                estate=self.estate, unit=unit, party=party, start_date=date(2025, 1, 1)
            )
        self.buyer = Party.objects.create(estate=self.estate, name="陈静")
        self.tenant = Party.objects.create(estate=self.estate, name="周敏")
        finance, supervisor = self.users["finance"], self.users["supervisor"]
        self.item = fees.fee_item_create(
            actor=finance,
            estate=self.estate,
            code="PROPERTY",
            name="物业服务费",
            kind="property",
            basis="per_area_month",
        )
        std = fees.standard_create(
            actor=finance, fee_item=self.item, rate=Decimal("2.35"), effective_from=date(2026, 1, 1)
        )
        fees.standard_approve(actor=supervisor, standard=std)
        fees.standard_publish(actor=finance, standard=std, today=date(2025, 11, 1))
        shift_open(actor=self.users["cashier"], estate=self.estate, today=TODAY)
        self.runs = []
        self.pending = []
        self.transferred = False
        self.tenant_pays = False
        self.month_billed: dict[tuple[int, str], Decimal] = {}
        self.keys = itertools.count(1)

    # --- helpers ----------------------------------------------------------------------------
    def _payers(self):
        return [
            *self.parties,
            *([self.buyer] if self.transferred else []),
            *([self.tenant] if self.tenant_pays else []),
        ]

    def _payments(self):
        from wuye.payments.models import Payment

        return list(
            Payment.objects.filter(estate=self.estate, status="posted")
            .exclude(channel="prepayment")
            .order_by("id")
        )

    def _charges(self):
        from wuye.billing.models import Charge

        return list(Charge.objects.filter(estate=self.estate).order_by("id"))

    @staticmethod
    def _live_allocations(payment) -> dict[int, Decimal]:
        live: dict[int, Decimal] = {}
        for a in payment.allocations.all():
            live[a.charge_id] = live.get(a.charge_id, Decimal(0)) + a.amount
        return {k: v for k, v in live.items() if v > 0}

    def _try(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DomainError:
            return None  # refused: the invariants prove nothing was left behind

    # --- rules ------------------------------------------------------------------------------
    @rule(month=st.integers(min_value=1, max_value=6))
    def bill(self, month):
        from wuye.billing import services

        finance = self.users["finance"]
        run = self._try(
            services.billing_run_create,
            actor=finance,
            estate=self.estate,
            period=f"2026-{month:02d}",
            as_of=date(2026, month, 1),
        )
        if run is not None and self._try(services.billing_run_post, run=run, actor=finance):
            self.runs.append(run)

    @precondition(lambda self: self.runs)
    @rule(pick=st.integers(min_value=0, max_value=50))
    def cancel_run(self, pick):
        from wuye.billing import services

        run = self.runs[pick % len(self.runs)]
        self._try(services.billing_run_cancel, run=run, actor=self.users["supervisor"], reason="错")

    @rule(who=st.integers(0, 2), amount=money, for_unit=st.booleans())
    def pay(self, who, amount, for_unit):
        from wuye.payments.services import payment_take

        payers = self._payers()
        party = payers[who % len(payers)]
        unit = None
        if for_unit and party in self.parties:
            unit = self.units[self.parties.index(party)]
        self._try(
            payment_take,
            actor=self.users["cashier"],
            party=party,
            unit=unit,
            amount=amount,
            channel="cash",
            keep_change_as_prepayment=True,
            today=TODAY,
        )

    @rule(who=st.integers(0, 1), amount=money, months=st.one_of(st.none(), st.integers(1, 4)))
    def pay_ahead(self, who, amount, months):
        from wuye.payments.services import PayAhead, payment_take

        unit = self.units[who]
        party = self.buyer if (who == 0 and self.transferred) else self.parties[who]
        plan = PayAhead(fee_item=self.item, months=months, amount=None if months else amount)
        self._try(
            payment_take,
            actor=self.users["cashier"],
            party=party,
            unit=unit,
            amount=amount,
            channel="cash",
            pay_ahead=plan,
            today=TODAY,
        )

    @rule(who=st.integers(0, 2))
    def apply_prepayment(self, who):
        from wuye.payments.services import prepayment_apply

        payers = self._payers()
        self._try(
            prepayment_apply,
            actor=self.users["cashier"],
            party=payers[who % len(payers)],
            today=TODAY,
        )

    @rule()
    def prepayment_falls_due(self):
        """The daily job's automatic application (issue 11 §7): afterwards no party holds
        prepayment while a charge of theirs that it could pay is due and open."""
        from wuye.billing.models import Charge, PrepaymentMovement
        from wuye.core.money import MoneySum
        from wuye.payments.services import prepayment_auto_apply

        prepayment_auto_apply(estate_id=self.estate.pk, as_of=TODAY)
        for party in self._payers():
            held = PrepaymentMovement.objects.filter(party=party).aggregate(s=MoneySum("amount"))
            due = Charge.objects.filter(party=party, status="open", due_date__lte=TODAY)
            assert not (held["s"] > 0 and due.exists()), (party.pk, held["s"], list(due))

    @rule(amount=money, share=st.sampled_from([Decimal("1"), Decimal("0.5")]), cash=st.booleans())
    def deposit_refund_paid_out(self, amount, share, cash):
        """A deposit raised, paid at the window, refunded (approved) and paid out in cash from
        the shift or by transfer (issue 11 §6), then asked to be paid out again."""
        from wuye.billing.services import charge_adhoc_create, deposit_refund
        from wuye.fees.models import FeeItem
        from wuye.payments.services import payment_take, refund_payout

        item, __ = FeeItem.objects.get_or_create(
            estate=self.estate,
            code="DEPOSIT",
            defaults={"name": "装修押金", "basis": "one_off", "kind": "deposit",
                      "treatment": "deposit"},
        )  # fmt: skip
        unit, party = self.units[1], self.parties[1]
        finance, cashier = self.users["finance"], self.users["cashier"]
        charge = charge_adhoc_create(
            actor=finance, unit=unit, fee_item=item, amount=amount, description="装修押金"
        )
        if charge.party_id != party.pk:
            return
        self._try(
            payment_take, actor=cashier, party=party, unit=unit, amount=amount, channel="cash",
            charge_ids=[charge.pk], today=TODAY,
        )  # fmt: skip
        release = self._try(
            deposit_refund, requested_by=finance, approved_by=self.users["supervisor"],
            charge=charge, amount=(amount * share).quantize(Decimal("0.01")), reason="验收",
        )  # fmt: skip
        if release is None:
            return
        how = {"channel": "cash"} if cash else {"channel": "transfer", "external_ref": "T1"}
        for __ in range(2):  # the second is a repeat: nothing moves twice
            self._try(refund_payout, actor=cashier, release=release, today=TODAY, **how)

    @invariant()
    def refunds_payable_are_the_refunds_not_paid_out(self):
        from wuye.billing.models import DepositRelease
        from wuye.ledger import chart

        owed = sum(
            (
                r.amount
                for r in DepositRelease.objects.filter(
                    estate=self.estate, action="refund", status="approved", payout__isnull=True
                )
            ),
            Decimal(0),
        )
        assert -_balance(self.estate, chart.REFUNDS_PAYABLE) == owed

    def _refund_args(self, payment, share, from_pool):
        live = self._live_allocations(payment)
        charges = {}
        if live and share:
            cid = sorted(live)[0]
            part = (live[cid] * share).quantize(Decimal("0.01"))
            if part > 0:
                charges = {cid: str(part)}
        return {"charges": charges, "from_prepayment": str(from_pool)}

    @rule(
        pick=st.integers(0, 50),
        share=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)]),
        from_pool=st.sampled_from([Decimal(0), Decimal("10.00"), Decimal("300.00")]),
    )
    def refund(self, pick, share, from_pool):
        from wuye.payments.services import payment_refund

        payments = self._payments()
        if not payments:
            return
        payment = payments[pick % len(payments)]
        self._try(
            payment_refund,
            requested_by=self.users["cashier"],
            approved_by=self.users["supervisor"],
            payment=payment,
            reason="退",
            today=TODAY,
            **self._refund_args(payment, share, from_pool),
        )

    @rule(pick=st.integers(0, 50))
    def void(self, pick):
        from wuye.payments.services import payment_void

        payments = self._payments()
        if payments:
            self._try(
                payment_void,
                requested_by=self.users["cashier"],
                approved_by=self.users["supervisor"],
                payment=payments[pick % len(payments)],
                reason="作废",
                today=TODAY,
            )

    @rule(pick=st.integers(0, 50), kind=st.sampled_from(["void", "refund"]))
    def request_reversal(self, pick, kind):
        """Asked now, decided after other operations: approval must re-check what is left."""
        from wuye.payments.services import reversal_request

        payments = self._payments()
        if not payments:
            return
        payment = payments[pick % len(payments)]
        extra = {} if kind == "void" else self._refund_args(payment, Decimal(1), Decimal("50"))
        reversal = self._try(
            reversal_request,
            actor=self.users["cashier"],
            payment=payment,
            kind=kind,
            reason="稍后审批",
            **extra,
        )
        if reversal is not None:
            self.pending.append(reversal)

    @precondition(lambda self: self.pending)
    @rule()
    def approve_reversal(self):
        from wuye.payments.services import reversal_approve

        reversal = self.pending.pop(0)
        with contextlib.suppress(DomainError, PermissionDenied):
            reversal_approve(actor=self.users["supervisor"], reversal=reversal, today=TODAY)

    @rule(pick=st.integers(0, 50), amount=money)
    def credit_note(self, pick, amount):
        from wuye.billing.services import charge_credit_note

        charges = [c for c in self._charges() if c.outstanding > 0]
        if charges:
            self._try(
                charge_credit_note,
                actor=self.users["finance"],
                charge=charges[pick % len(charges)],
                amount=amount,
                reason="面积更正",
                idempotency_key=f"{self.estate.code}-cn-{next(self.keys)}",
            )

    @rule()
    def late_fees(self):
        from wuye.billing.services import late_fee_assess

        self._try(late_fee_assess, estate=self.estate, as_of=TODAY, actor=self.users["finance"])

    @rule(month=st.integers(min_value=5, max_value=10))
    def recognise_revenue(self, month):
        """The monthly recognition (issue 11 §15): fees raised ahead of their month move from
        the contract liability to revenue once it has begun (asked again: nothing)."""
        from wuye.billing.services import revenue_recognise

        self._try(
            revenue_recognise,
            estate=self.estate,
            month=f"2026-{month:02d}",
            today=max(TODAY, date(2026, month, 1)),
        )

    @precondition(lambda self: not self.transferred)
    @rule()
    def transfer(self):
        """李娜 sells unit 1-101 to 陈静 from 1 April: the charges already raised for days from
        then on (bill runs, months she paid ahead) are re-split (issue 11 §9)."""
        from wuye.registry.services import unit_party_add

        if self._try(
            unit_party_add,
            actor=self.users["supervisor"],
            unit=self.units[0],
            party=self.buyer,
            start_date=TRANSFER_ON,
            is_payer=True,
        ):
            self.transferred = True

    @precondition(lambda self: self.transferred and not self.tenant_pays)
    @rule()
    def tenant_becomes_payer(self):
        """陈静 names his tenant 周敏 as the payer from 1 May: a second change of payer splits
        陈静's days once, never 李娜's charges again."""
        from wuye.registry.services import unit_party_add

        if self._try(
            unit_party_add,
            actor=self.users["supervisor"],
            unit=self.units[0],
            party=self.tenant,
            role="tenant",
            start_date=TENANT_ON,
            is_payer=True,
        ):
            self.tenant_pays = True

    # --- invariants -------------------------------------------------------------------------
    @invariant()
    def a_month_is_billed_once_whoever_pays_it(self):
        """A unit's month costs the same however many times its payer changes: its regular
        charges less the parts a change of payer credited off them (the new payer's charge
        carries those days) is the month's amount, or nothing while its run is cancelled."""
        from wuye.billing.models import Charge, CreditNote

        moved: dict[int, Decimal] = {}
        for note in CreditNote.objects.filter(
            estate=self.estate, idempotency_key__endswith=":seller"
        ):
            moved[note.charge_id] = moved.get(note.charge_id, Decimal(0)) + note.amount
        totals: dict[tuple[int, str], Decimal] = {}
        for c in Charge.objects.filter(estate=self.estate, kind="regular").exclude(
            status="cancelled"
        ):
            slot = (c.unit_id, c.period)
            totals[slot] = totals.get(slot, Decimal(0)) + c.amount - moved.get(c.pk, Decimal(0))
        for slot, total in totals.items():
            first = self.month_billed.setdefault(slot, total)
            assert total == first, (slot, total, first)

    @invariant()
    def trial_balance_balances(self):
        from wuye.core.money import MoneySum
        from wuye.ledger.models import Posting

        t = Posting.objects.filter(estate=self.estate).aggregate(
            d=MoneySum("debit"), c=MoneySum("credit")
        )
        assert (t["d"] or 0) == (t["c"] or 0)

    @invariant()
    def receivable_is_the_open_charges(self):
        from wuye.ledger import chart

        open_charges = sum((c.outstanding for c in self._charges()), Decimal(0))
        assert _balance(self.estate, chart.RECEIVABLE) == open_charges

    @invariant()
    def prepayments_agree_and_no_pool_is_negative(self):
        from wuye.billing.models import PrepaymentMovement
        from wuye.ledger import chart

        pools: dict[tuple[int, int | None], Decimal] = {}
        for m in PrepaymentMovement.objects.filter(estate=self.estate):
            key = (m.party_id, m.fee_item_id)
            pools[key] = pools.get(key, Decimal(0)) + m.amount
        assert -_balance(self.estate, chart.PREPAYMENTS) == sum(pools.values(), Decimal(0))
        assert all(v >= 0 for v in pools.values()), pools

    @invariant()
    def suspense_is_the_open_exceptions(self):
        from wuye.ledger import chart

        code = getattr(chart, "SUSPENSE", None)
        if code is None:
            return
        from wuye.ledger.selectors import account_balance
        from wuye.online.selectors import open_exceptions_total

        # the suspense account and its sub-accounts per channel (ADR 0011)
        assert account_balance(self.estate, code) == open_exceptions_total(self.estate)

    @invariant()
    def contract_liability_is_the_fees_raised_ahead_not_yet_recognised(self):
        from wuye.billing.models import CreditNote
        from wuye.billing.services.revenue import is_deferred
        from wuye.ledger import chart

        due = Decimal(0)
        for c in self._charges():
            if c.status != "cancelled" and c.recognition_id is None and is_deferred(c):
                credited = sum((n.amount for n in CreditNote.objects.filter(charge=c)), Decimal(0))
                due += c.amount - credited
        assert -_balance(self.estate, chart.CONTRACT_LIABILITY) == due

    @invariant()
    def after_the_transfer_the_seller_neither_owes_nor_has_paid_the_buyers_days(self):
        """Her money for 陈静's days went back to her prepayment; 陈静 owes them himself."""
        if not self.transferred:
            return
        from wuye.billing.outstanding import settled

        seller = self.parties[0]
        for c in self._charges():
            if (
                c.unit_id == self.units[0].pk
                and c.party_id == seller.pk
                and c.kind == "regular"
                and c.period_start >= TRANSFER_ON
                and c.status != "cancelled"
            ):
                assert c.outstanding == 0, (c.pk, c.period, c.outstanding)
                assert settled([c.pk]).get(c.pk, Decimal(0)) == 0, (c.pk, c.period)

    @invariant()
    def no_charge_below_zero_or_above_its_amount(self):
        for c in self._charges():
            assert Decimal(0) <= c.outstanding <= c.amount, (c.pk, c.outstanding, c.amount)

    @invariant()
    def no_money_both_refunded_and_applied(self):
        from wuye.payments.models import Payment

        for p in Payment.objects.filter(estate=self.estate).exclude(channel="prepayment"):
            applied = sum(self._live_allocations(p).values(), Decimal(0))
            paid_back = sum((r.amount for r in p.reversals.filter(status="approved")), Decimal(0))
            assert applied + paid_back <= p.amount, (p.pk, p.amount, applied, paid_back)


@pytest.mark.django_db
def test_the_books_hold_after_any_sequence_of_money_operations():
    from wuye.accounts.roles import sync_roles

    sync_roles()
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.django_db
def test_a_second_change_of_payer_after_months_billed_ahead_bills_each_month_once():
    """The machine's rules in the one order random search seldom finds: May and June billed to
    李娜, the unit sold to 陈静 from April, then 陈静's tenant the payer from May."""
    from wuye.accounts.roles import sync_roles

    sync_roles()
    books = Books()
    for step in (lambda: books.bill(5), lambda: books.bill(6), books.transfer):
        step()
        books.a_month_is_billed_once_whoever_pays_it()  # remembers each month's amount
    books.tenant_becomes_payer()
    assert books.transferred and books.tenant_pays
    books.a_month_is_billed_once_whoever_pays_it()
    books.receivable_is_the_open_charges()
    books.prepayments_agree_and_no_pool_is_negative()
    books.after_the_transfer_the_seller_neither_owes_nor_has_paid_the_buyers_days()
