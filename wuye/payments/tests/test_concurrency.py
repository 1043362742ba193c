"""On PostgreSQL: concurrent cashiers get unique, gapless receipt numbers; a request sent twice
at once posts one payment."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from wuye.payments.models import Payment, Receipt

from .conftest import TODAY

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL"
    ),
]


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_eight_cashiers_get_unique_gapless_receipt_numbers(make_staff, estate):
    from wuye.payments.services import payment_take
    from wuye.registry.models import Party

    # given eight owners and a cashier taking API payments for each at the same moment
    cashier = make_staff("cashier", estates=[estate])
    parties = [Party.objects.create(estate=estate, name=f"业主{i}") for i in range(8)]
    # a ninth request that fails after taking its number gives the number back
    results = _in_threads(
        9,
        lambda i: payment_take(
            actor=cashier,
            party=parties[i] if i < 8 else parties[0],
            amount="100.00" if i < 8 else "-1",
            channel="transfer",
            external_ref=f"BANK-{i}",
            source="api",
            keep_change_as_prepayment=True,
            today=TODAY,
        ),
    )
    failures = [r for r in results[:8] if isinstance(r, Exception)]
    assert not failures, failures
    numbers = sorted(Receipt.objects.filter(estate=estate).values_list("number", flat=True))
    assert numbers == list(range(1, 9))


def test_the_same_request_sent_twice_at_once_posts_one_payment(make_staff, estate, owner):
    from wuye.payments.services import payment_take, shift_open

    cashier = make_staff("cashier", estates=[estate])
    shift_open(actor=cashier, estate=estate, today=TODAY)  # API cash goes into the shift
    results = _in_threads(
        4,
        lambda i: payment_take(
            actor=cashier,
            party=owner,
            amount="88.00",
            channel="cash",
            source="api",
            keep_change_as_prepayment=True,
            idempotency_key="client-retry-1",
            today=TODAY,
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r.pk for r in results} == {Payment.objects.get().pk}
    assert Payment.objects.get().amount == Decimal("88.00")
    assert Receipt.objects.count() == 1


def _slow(monkeypatch, target: str, seconds: float = 0.6):
    """Make `target` (module:function) sleep before it runs: the transaction calling it holds
    its locks a while, so the other thread's transaction runs into them."""
    import importlib
    import time

    module_name, name = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


@pytest.mark.parametrize("refund_channel", ["cash", "transfer"])
def test_a_window_payment_and_a_refund_approval_at_once_do_not_deadlock(
    monkeypatch, make_staff, estate, owner, property_item, make_charge, refund_channel
):
    """Issue 11 §21: one lock order (shift -> party -> unit -> charges -> payment -> counters).
    The approval used to lock the charges, then the shift; the window payment locks the shift,
    then the charges: PostgreSQL killed one of them as a deadlock."""
    import time

    from wuye.payments.services import payment_take, reversal_request, shift_open
    from wuye.payments.services.reversals import reversal_approve

    cashier = make_staff("cashier", estates=[estate])
    supervisor = make_staff("supervisor", estates=[estate])
    shift_open(actor=cashier, estate=estate, float_amount="200.00", today=TODAY)
    # given January partly paid (100.00 of 250.60) in cash, and a refund of that 100.00 asked
    jan = make_charge(property_item, "2026-01", "250.60")
    make_charge(property_item, "2026-02", "250.60")
    paid = payment_take(actor=cashier, party=owner, amount="100.00", channel="cash", today=TODAY)
    refund = reversal_request(
        actor=cashier,
        payment=paid,
        kind="refund",
        reason="多收",
        charges={jan.pk: "100.00"},
        refund_channel=refund_channel,
    )
    # the approval lingers while it holds its first locks
    _slow(monkeypatch, "wuye.payments.services.reversals:_live_allocations")

    def work(i):
        if i == 0:
            return reversal_approve(actor=supervisor, reversal=refund, today=TODAY)
        time.sleep(0.2)  # the approval is inside its locks by now
        return payment_take(actor=cashier, party=owner, amount="50.00", channel="cash", today=TODAY)

    # when the cashier takes 50.00 from the same owner while the supervisor approves
    results = _in_threads(2, work)
    # then both succeed, one after the other
    assert not [r for r in results if isinstance(r, Exception)], results
    jan.refresh_from_db()
    assert jan.outstanding == Decimal("200.60")  # 250.60 - 100.00 + 100.00 - 50.00


def test_a_prepayment_refund_and_a_use_of_it_at_once_never_overdraw_it(
    monkeypatch, make_staff, estate, owner, property_item, make_charge
):
    """Issue 11 §2: the approval's prepayment check took no lock: a refund of 250.60 and the
    use of the same 250.60 on a charge both went through (balance -250.60)."""
    import time

    from wuye.billing.models import PrepaymentMovement
    from wuye.core.money import MoneySum
    from wuye.payments.services import (
        payment_take,
        prepayment_apply,
        reversal_request,
        shift_open,
    )
    from wuye.payments.services.reversals import reversal_approve

    cashier = make_staff("cashier", estates=[estate])
    supervisor = make_staff("supervisor", estates=[estate])
    shift_open(actor=cashier, estate=estate, float_amount="200.00", today=TODAY)
    # given 250.60 kept as prepayment, and a refund of it asked
    top_up = payment_take(
        actor=cashier,
        party=owner,
        amount="250.60",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    refund = reversal_request(
        actor=cashier, payment=top_up, kind="refund", reason="退预存", from_prepayment="250.60"
    )
    make_charge(property_item, "2026-03", "250.60")
    # the use of the prepayment lingers inside its transaction
    _slow(monkeypatch, "wuye.payments.services.payments:charge_refresh")

    def work(i):
        if i == 0:
            return prepayment_apply(actor=cashier, party=owner, today=TODAY)
        time.sleep(0.2)
        return reversal_approve(actor=supervisor, reversal=refund, today=TODAY)

    # when the cashier applies the prepayment while the supervisor approves the refund
    results = _in_threads(2, work)
    # then one of them is refused and the balance never goes below zero
    balance = PrepaymentMovement.objects.filter(party=owner).aggregate(s=MoneySum("amount"))["s"]
    assert balance == Decimal("0.00")
    # refused with its reason (not killed as a deadlock): the money has paid March
    from wuye.core.errors import DomainError

    assert isinstance(results[0], Payment), results
    assert isinstance(results[1], DomainError) and results[1].code == "exceeds", results
