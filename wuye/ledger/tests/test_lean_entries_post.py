"""Posting many entries at once (`entries_post`, a batch of online payments): each checked as
`entry_post` checks it, numbered per estate and year in the order given, nothing written when
one is refused; and the numbered insert that keeps the counter row locked only at the end."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.models import JournalEntry, Posting
from wuye.ledger.services import Line, NewEntry, entries_post
from wuye.registry.models import Estate

from .helpers import billing_lines, check_deferred_constraints, postgresql_only

MARCH = date(2026, 3, 2)


def spec(estate, key, amount="100.00", **kw):
    return NewEntry(
        estate_id=estate.pk,
        date=kw.pop("day", MARCH),
        memo=kw.pop("memo", f"收款 {key}"),
        lines=kw.pop("lines", None) or billing_lines(amount, party_id=7),
        idempotency_key=key,
        source_type="payment",
        source_id=key,
        **kw,
    )


@pytest.mark.django_db
def test_a_batch_is_numbered_per_estate_in_the_order_given(estate, post):
    # given two estates, the first with a voucher this year already
    other = Estate.objects.create(code="QT", name="其他小区")
    post(estate)
    # when a batch mixes them
    made = entries_post(
        entries=[
            spec(estate, "p-1"),
            spec(other, "p-2"),
            spec(estate, "p-3", "20.00"),
            spec(other, "p-4", day=date(2027, 1, 5)),
        ]
    )
    check_deferred_constraints()
    # then each estate and year counts on without a gap, in the order given
    assert [(e.estate_id, e.voucher) for e in made] == [
        (estate.pk, "2026-00002"),
        (other.pk, "2026-00001"),
        (estate.pk, "2026-00003"),
        (other.pk, "2027-00001"),
    ]
    # and each has its postings, in the order of its lines, and one audit row
    third = JournalEntry.objects.get(idempotency_key="p-3")
    assert [(p.account.code, p.debit, p.credit) for p in third.postings.all()] == [
        (chart.RECEIVABLE, Decimal("20.00"), Decimal("0.00")),
        (chart.REVENUE, Decimal("0.00"), Decimal("20.00")),
    ]
    assert AuditEvent.objects.filter(subject_type="ledger.journalentry").count() == 5


@pytest.mark.django_db
def test_one_entry_refused_refuses_the_batch_naming_it(estate):
    unbalanced = [
        Line(chart.RECEIVABLE, debit=Decimal("10")),
        Line(chart.REVENUE, credit=Decimal("9")),
    ]
    with pytest.raises(DomainError) as err:
        entries_post(entries=[spec(estate, "ok-1"), spec(estate, "bad-2", lines=unbalanced)])
    assert err.value.message.startswith("entry 2:") and "does not balance" in err.value.message
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db
def test_without_audit_the_caller_writes_its_own_row(estate):
    entries_post(entries=[spec(estate, "quiet-1")], audit=False)
    assert JournalEntry.objects.count() == 1
    assert not AuditEvent.objects.filter(subject_type="ledger.journalentry").exists()


@pytest.mark.django_db(transaction=True)
def test_a_key_already_posted_fails_the_batch_and_no_number_is_lost():
    # given a posted entry
    estate = Estate.objects.create(code="HY", name="华苑小区")
    entries_post(entries=[spec(estate, "taken")])
    # when a batch repeats its key, the batch fails and its transaction rolls back
    with pytest.raises(IntegrityError), transaction.atomic():
        entries_post(entries=[spec(estate, "new-1"), spec(estate, "taken")])
    # then the next number follows the first without a gap
    [entry] = entries_post(entries=[spec(estate, "new-2")])
    assert entry.voucher_no == 2
    assert sorted(JournalEntry.objects.values_list("voucher_no", flat=True)) == [1, 2]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_batches_over_the_same_estates_in_any_order_never_deadlock_and_stay_gapless():
    # given three estates and four threads, each posting batches that touch all three in a
    # different order
    estates = [Estate.objects.create(code=f"E{i}", name=f"小区{i}") for i in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(t: int) -> None:
        try:
            start.wait()
            for b in range(5):
                order = estates[t % 3 :] + estates[: t % 3]
                entries_post(entries=[spec(e, f"t{t}-b{b}-{e.code}") for e in order])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then no batch failed, and each estate's vouchers run 1..20
    assert errors == []
    for estate in estates:
        numbers = sorted(
            JournalEntry.objects.filter(estate=estate).values_list("voucher_no", flat=True)
        )
        assert numbers == list(range(1, 21))
    assert Posting.objects.count() == 2 * 60


@pytest.mark.django_db
def test_a_large_batch_is_numbered_and_posted_like_a_small_one(estate):
    # given more entries than go into one statement row by row (they go as arrays)
    specs = [spec(estate, f"big-{n}", f"{n}.00") for n in range(1, 8)]
    # when they are posted at once
    made = entries_post(entries=specs)
    check_deferred_constraints()
    # then numbered 1..7 in the order given, each with its own two postings
    assert [e.voucher_no for e in made] == list(range(1, 8))
    for n, entry in enumerate(made, start=1):
        amounts = [(p.debit, p.credit) for p in entry.postings.all()]
        assert amounts == [(Decimal(n), Decimal(0)), (Decimal(0), Decimal(n))]
        assert entry.memo == f"收款 big-{n}"
