"""What only shows with real commits and several connections (PostgreSQL)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from wuye.ledger import chart
from wuye.ledger.models import Account, JournalEntry, Posting
from wuye.ledger.services import entry_post
from wuye.registry.models import Estate

from .helpers import billing_lines, postgresql_only

THREADS = 8
PER_THREAD = 12


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_eight_cashiers_posting_at_once_get_gapless_unique_voucher_numbers():
    # given
    estate = Estate.objects.create(code="HY", name="华苑小区")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def cashier(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                entry_post(
                    estate=estate,
                    date=date(2026, 3, 1),
                    memo=f"payment {t}-{i}",
                    lines=billing_lines("10.00", party_id=t),
                    idempotency_key=f"payment:{t}:{i}",
                )
                if i % 4 == 0:  # a client retry, racing nobody but itself
                    entry_post(
                        estate=estate,
                        date=date(2026, 3, 1),
                        memo=f"payment {t}-{i}",
                        lines=billing_lines("10.00", party_id=t),
                        idempotency_key=f"payment:{t}:{i}",
                    )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cashier, args=(t,)) for t in range(THREADS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    numbers = sorted(
        JournalEntry.objects.filter(estate=estate, voucher_year=2026).values_list(
            "voucher_no", flat=True
        )
    )
    assert numbers == list(range(1, THREADS * PER_THREAD + 1))
    assert Posting.objects.filter(estate=estate).count() == 2 * THREADS * PER_THREAD


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_at_commit_an_unbalanced_entry_inserted_around_the_service():
    # given
    estate = Estate.objects.create(code="HY", name="华苑小区")
    cash, receivable = (
        Account.objects.get(code=chart.CASH),
        Account.objects.get(code=chart.RECEIVABLE),
    )
    # when rows go straight into the tables and the transaction commits
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(
            estate=estate,
            date=date(2026, 3, 1),
            voucher_year=2026,
            voucher_no=1,
            idempotency_key="around-the-service",
        )
        Posting.objects.bulk_create(
            [
                Posting(
                    entry=entry,
                    account=cash,
                    estate=estate,
                    date=entry.date,
                    debit=Decimal("10.00"),
                ),
                Posting(
                    entry=entry,
                    account=receivable,
                    estate=estate,
                    date=entry.date,
                    credit=Decimal("9.00"),
                ),
            ]
        )
    # then nothing of it remains
    assert not JournalEntry.objects.exists() and not Posting.objects.exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_eight_retries_of_one_payment_at_once_post_it_once_and_waste_no_number():
    # given
    estate = Estate.objects.create(code="HY", name="华苑小区")
    results: list = []
    start = threading.Barrier(THREADS)

    def retry() -> None:
        try:
            start.wait()
            entry = entry_post(
                estate=estate,
                date=date(2026, 3, 1),
                memo="payment 1",
                lines=billing_lines("10.00", party_id=1),
                idempotency_key="payment:wechat:4200001",
            )
            results.append(entry.pk)
        except BaseException as exc:  # noqa: BLE001
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(THREADS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert len(set(results)) == 1 and isinstance(results[0], int)
    assert JournalEntry.objects.count() == 1
    after = entry_post(
        estate=estate,
        date=date(2026, 3, 1),
        memo="payment 2",
        lines=billing_lines("10.00", party_id=1),
        idempotency_key="payment:wechat:4200002",
    )
    assert after.voucher_no == 2
