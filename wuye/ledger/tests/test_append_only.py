from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from wuye.ledger import chart
from wuye.ledger.models import Account, JournalEntry, PostedEntryError, Posting

from .helpers import check_deferred_constraints, postgresql_only

MARCH = date(2026, 3, 1)


@pytest.mark.django_db
def test_a_posted_entry_and_its_postings_cannot_be_edited_or_deleted_through_the_orm(estate, post):
    # given
    entry = post(estate, amount="100.00")
    posting = entry.postings.first()
    # when / then
    entry.memo = "rewritten"
    posting.debit = Decimal("1.00")
    for attempt in (
        entry.save,
        entry.delete,
        posting.save,
        posting.delete,
        lambda: JournalEntry.objects.filter(pk=entry.pk).update(memo="x"),
        lambda: JournalEntry.objects.all().delete(),
        lambda: Posting.objects.filter(entry=entry).update(debit=Decimal("1.00")),
        lambda: Posting.objects.all().delete(),
    ):
        with pytest.raises(PostedEntryError):
            attempt()
    assert JournalEntry.objects.get(pk=entry.pk).memo == "2026-03 物业费"
    assert sorted(p.debit + p.credit for p in Posting.objects.all()) == [Decimal("100.00")] * 2


@postgresql_only
@pytest.mark.django_db
def test_postgresql_refuses_raw_updates_and_deletes_of_entries_and_postings(estate, post):
    # given
    entry = post(estate, amount="100.00")
    check_deferred_constraints()
    # when / then
    for sql in (
        "UPDATE ledger_journalentry SET memo = 'x' WHERE id = %s",
        "DELETE FROM ledger_journalentry WHERE id = %s",
        "UPDATE ledger_posting SET debit = 1 WHERE entry_id = %s AND debit > 0",
        "DELETE FROM ledger_posting WHERE entry_id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert Posting.objects.filter(entry=entry).count() == 2


def _direct_entry(estate, key: str, amounts: list[tuple[str, str, str]]) -> JournalEntry:
    """Rows written straight into the tables, bypassing entry_post."""
    entry = JournalEntry.objects.create(
        estate=estate, date=MARCH, voucher_year=2026, voucher_no=900, idempotency_key=key
    )
    accounts = {a.code: a for a in Account.objects.all()}
    Posting.objects.bulk_create(
        Posting(
            entry=entry,
            account=accounts[code],
            estate=estate,
            date=MARCH,
            debit=Decimal(debit),
            credit=Decimal(credit),
        )
        for code, debit, credit in amounts
    )
    return entry


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ([(chart.CASH, "10.00", "0"), (chart.RECEIVABLE, "0", "9.99")], "does not balance"),
        ([(chart.CASH, "10.00", "0")], "needs at least two"),
        ([], "needs at least two"),
    ],
)
def test_postgresql_refuses_an_unbalanced_entry_written_around_the_service(
    estate, amounts, message
):
    # given rows inserted directly, as a buggy caller or a SQL console would
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        _direct_entry(estate, "direct-1", amounts)
        # when the transaction reaches its commit-time checks
        check_deferred_constraints()
    # then nothing was written
    assert not JournalEntry.objects.filter(idempotency_key="direct-1").exists()


@postgresql_only
@pytest.mark.django_db
def test_postgresql_accepts_a_balanced_entry_written_around_the_service(estate):
    with transaction.atomic():
        entry = _direct_entry(
            estate, "direct-ok", [(chart.CASH, "10.00", "0"), (chart.RECEIVABLE, "0", "10.00")]
        )
        check_deferred_constraints()
    assert entry.postings.count() == 2


@postgresql_only
@pytest.mark.django_db
def test_postgresql_refuses_a_line_added_later_to_a_posted_entry(estate, post):
    # given a balanced, posted entry
    entry = post(estate, amount="100.00")
    check_deferred_constraints()
    # when someone adds one more line in another (sub)transaction
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        Posting.objects.create(
            entry=entry,
            account=Account.objects.get(code=chart.CASH),
            estate=estate,
            date=entry.date,
            debit=Decimal("5.00"),
        )
        check_deferred_constraints()
    # then
    assert entry.postings.count() == 2


@postgresql_only
@pytest.mark.django_db
def test_postgresql_refuses_postings_of_another_estate_than_their_entry(estate, other_estate):
    with pytest.raises(IntegrityError, match="another estate"), transaction.atomic():
        entry = _direct_entry(
            estate, "direct-2", [(chart.CASH, "10.00", "0"), (chart.RECEIVABLE, "0", "10.00")]
        )
        Posting.objects.bulk_create(
            [
                Posting(
                    entry=entry,
                    account=Account.objects.get(code=chart.BANK),
                    estate=other_estate,
                    date=MARCH,
                    debit=Decimal("1.00"),
                ),
                Posting(
                    entry=entry,
                    account=Account.objects.get(code=chart.BANK),
                    estate=other_estate,
                    date=MARCH,
                    credit=Decimal("1.00"),
                ),
            ]
        )
        check_deferred_constraints()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debit", "credit"),
    [("-1.00", "0"), ("5.00", "5.00"), ("0", "0")],
)
def test_the_database_refuses_a_negative_two_sided_or_zero_posting(estate, post, debit, credit):
    # given
    entry = post(estate)
    # when / then (check constraints, on SQLite too)
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.create(
            entry=entry,
            account=Account.objects.get(code=chart.CASH),
            estate=estate,
            date=entry.date,
            debit=Decimal(debit),
            credit=Decimal(credit),
        )
