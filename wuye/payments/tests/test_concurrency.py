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
    from wuye.payments.services import payment_take

    cashier = make_staff("cashier", estates=[estate])
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
