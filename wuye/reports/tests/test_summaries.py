"""The summary cells plus the deltas postings wrote equal a full recomputation from the books
after any sequence of postings, before and after the deltas are folded in, and whenever
they are folded (hypothesis); their money equals what the charges say is owed."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.money import ZERO
from wuye.reports import summaries
from wuye.reports.models import CellDelta, CollectionCell

PERIODS = ["2026-10", "2026-11", "2026-12", "2027-01"]
DAYS = [date(2026, 10, 5), date(2026, 11, 5), date(2026, 12, 5), date(2027, 1, 5)]

parties = st.integers(0, 2)
picks = st.integers(0, 40)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("700"), places=2)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("bill"), st.integers(0, 3)),
        st.tuples(st.just("pay"), parties, money, st.integers(0, 3), st.booleans()),
        st.tuples(st.just("apply"), parties, st.integers(0, 3)),
        st.tuples(st.just("waive"), picks, money),
        st.tuples(st.just("credit"), picks, money),
        st.tuples(st.just("refund"), picks, st.integers(0, 3)),
        st.tuples(st.just("void"), picks, st.integers(0, 3)),
        st.tuples(st.just("late"), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
        st.tuples(st.just("read")),
    ),
    min_size=1,
    max_size=14,
)
# most sequences start with a bill or two, so the later postings have charges to work on
sequences = st.tuples(
    st.lists(st.tuples(st.just("bill"), st.integers(0, 3)), min_size=0, max_size=2), ops
).map(lambda t: t[0] + t[1])


def _run(op, ctx):
    from wuye.billing import services as billing
    from wuye.billing.models import BillingRun
    from wuye.payments import services as payments
    from wuye.payments.models import Payment

    kind = op[0]
    if kind == "bill":
        p = PERIODS[op[1]]
        run = billing.billing_run_create(
            actor=ctx["finance"], estate=ctx["estate"], period=p, as_of=DAYS[op[1]]
        )
        billing.billing_run_post(run=run, actor=ctx["finance"])
    elif kind == "pay":
        payments.payment_take(
            actor=ctx["cashier"],
            party=ctx["parties"][op[1]],
            amount=op[2],
            channel="cash",
            today=DAYS[op[3]],
            keep_change_as_prepayment=op[4],
        )
    elif kind == "apply":
        payments.prepayment_apply(
            actor=ctx["cashier"], party=ctx["parties"][op[1]], today=DAYS[op[2]]
        )
    elif kind in ("waive", "credit"):
        open_ = list(Charge.objects.filter(status="open").order_by("id"))
        if not open_:
            return
        charge = open_[op[1] % len(open_)]
        amount = min(op[2], charge.outstanding)
        if kind == "waive":
            w = billing.waiver_request(
                actor=ctx["finance"], charge=charge, amount=amount, reason="test"
            )
            billing.waiver_approve(actor=ctx["supervisor"], waiver=w)
        else:
            billing.charge_credit_note(
                actor=ctx["finance"],
                charge=charge,
                amount=amount,
                reason="test",
                idempotency_key=f"cn-{charge.pk}-{amount}-{ctx['n']}",
            )
    elif kind in ("refund", "void"):
        paid = list(Payment.objects.filter(status="posted").exclude(channel="prepayment"))
        if not paid:
            return
        payment = paid[op[1] % len(paid)]
        if kind == "void":
            payments.payment_void(
                requested_by=ctx["cashier"],
                approved_by=ctx["supervisor"],
                payment=payment,
                reason="test",
                today=DAYS[op[2]],
            )
        else:
            alloc = payment.allocations.filter(reverses__isnull=True).first()
            if alloc is None:
                return
            payments.payment_refund(
                requested_by=ctx["cashier"],
                approved_by=ctx["supervisor"],
                payment=payment,
                reason="test",
                amount="0.01",
                charges={alloc.charge_id: "0.01"},
                refund_channel="cash",
                today=DAYS[op[2]],
            )
    elif kind == "late":
        billing.late_fee_assess(estate=ctx["estate"], as_of=DAYS[op[1]])
    elif kind == "cancel":
        run = BillingRun.objects.filter(period=PERIODS[op[1]], status="posted").first()
        if run:
            billing.billing_run_cancel(run=run, actor=ctx["supervisor"], reason="test")
    elif kind == "read":
        summaries.refresh()


def _check_books():
    # what the readers add up (cells + pending deltas) is the books, without any refresh
    expected = summaries.computed()
    assert summaries.stored() == expected
    # and the same once the deltas are folded into the cells
    summaries.refresh()
    assert summaries.pending() == 0
    assert summaries.stored() == expected
    # the cells' money is what the charges say is still owed
    owed = sum((c.billed - c.waived - c.received for c in CollectionCell.objects.all()), ZERO)
    live = Charge.objects.exclude(status="cancelled")
    assert owed == sum((c.outstanding for c in live), ZERO)


def test_summaries_equal_a_full_recomputation(
    estate, households, fee, finance, cashier, supervisor, shift_on
):
    ctx = {
        "estate": estate,
        "finance": finance,
        "cashier": cashier,
        "supervisor": supervisor,
        "parties": [households[k][1] for k in ("A1", "A2", "B1")],
        "n": 0,
    }
    shift_on(DAYS[0])

    @settings(max_examples=max(settings().max_examples, 80))
    @given(sequences)
    def run(sequence):
        with transaction.atomic():
            _run_all(sequence, ctx)
            _check_books()
            transaction.set_rollback(True)

    run()


def _run_all(sequence, ctx):
    for op in sequence:
        ctx["n"] += 1
        try:
            with transaction.atomic():
                _run(op, ctx)
        except DomainError:
            pass  # a refused posting (overpaid, closed, touched run) changes nothing


def test_a_batch_of_postings_writes_what_they_would_have_written_one_by_one(
    estate, households, fee, finance, cashier, supervisor, shift_on
):
    """`batched` (the demo's year): the postings of the block write no delta until its end,
    then the cells plus the deltas equal the books, after postings before the block too."""
    ctx = {
        "estate": estate,
        "finance": finance,
        "cashier": cashier,
        "supervisor": supervisor,
        "parties": [households[k][1] for k in ("A1", "A2", "B1")],
        "n": 0,
    }
    shift_on(DAYS[0])

    @settings(max_examples=max(settings().max_examples, 60))
    @given(sequences, st.integers(0, 16))
    # billed before the block; paid, then partly refunded, inside it
    @example([("bill", 0), ("pay", 0, Decimal("100.00"), 0, False), ("refund", 0, 0)], 1)
    def run(sequence, split):
        with transaction.atomic():
            _run_all(sequence[:split], ctx)
            last = CellDelta.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            with summaries.batched():
                _run_all(sequence[split:], ctx)
                assert not CellDelta.objects.filter(pk__gt=last).exists()
            _check_books()
            transaction.set_rollback(True)

    run()


def test_rebuild_recomputes_everything(
    estate, households, fee, finance, cashier, supervisor, shift_on
):
    """`rebuild` (on PostgreSQL in SQL, with reversed money through `post`) writes what the
    deltas had written: payments, a prepayment use, a waiver, a credit note, a refund."""
    from wuye.billing import services as billing
    from wuye.payments.services import payment_refund, payment_take, prepayment_apply

    run = billing.billing_run_create(
        actor=finance, estate=estate, period="2026-11", as_of=date(2026, 11, 1)
    )
    billing.billing_run_post(run=run, actor=finance)
    shift_on(DAYS[1])
    payment_take(
        actor=cashier, party=households["A1"][1], amount="150.00", channel="cash", today=DAYS[1]
    )
    b1 = payment_take(
        actor=cashier,
        party=households["B1"][1],
        amount="300.00",
        channel="cash",
        today=DAYS[1],
        keep_change_as_prepayment=True,
    )
    a2 = Charge.objects.get(party=households["A2"][1])
    waiver = billing.waiver_request(actor=finance, charge=a2, amount="20.00", reason="t")
    billing.waiver_approve(actor=supervisor, waiver=waiver)
    billing.charge_credit_note(
        actor=finance, charge=a2, amount="5.00", reason="t", idempotency_key="cn-rebuild"
    )
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=b1,
        reason="t",
        amount="10.00",
        charges={b1.allocations.get().charge_id: "10.00"},
        refund_channel="cash",
        today=DAYS[2],
    )
    run = billing.billing_run_create(
        actor=finance, estate=estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    billing.billing_run_post(run=run, actor=finance)
    prepayment_apply(actor=cashier, party=households["B1"][1], today=DAYS[2])
    assert CellDelta.objects.exists()  # the postings wrote deltas, nothing was recomputed
    before = summaries.stored()
    assert before == summaries.computed()
    CollectionCell.objects.all().delete()
    summaries.rebuild()
    assert summaries.pending() == 0
    assert summaries.stored() == before
