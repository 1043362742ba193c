from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.models import Account, JournalEntry, Posting
from wuye.ledger.services import Line, account_ensure, entry_post, entry_reverse

from .helpers import billing_lines

MARCH = date(2026, 3, 1)


def _post(estate, lines, key="k-1", **kw):
    return entry_post(
        estate=estate, date=MARCH, memo="test", lines=lines, idempotency_key=key, **kw
    )


@pytest.mark.django_db
def test_a_bill_posts_as_one_balanced_voucher_with_the_chart_accounts(estate, make_staff):
    # given the chart created by the data migration
    assert Account.objects.filter(code__in=chart.ACCOUNTS).count() == len(chart.ACCOUNTS)
    finance = make_staff("finance", estates=[estate])
    # when
    entry = entry_post(
        estate=estate,
        date=MARCH,
        memo="2026-03 物业费",
        lines=billing_lines("1250.40", party_id=7),
        idempotency_key="billing_run:1:PROPERTY",
        source_type="billing_run",
        source_id=1,
        actor=finance,
    )
    # then
    assert (entry.voucher_year, entry.voucher_no, entry.voucher) == (2026, 1, "2026-00001")
    assert entry.source_id == "1" and entry.created_by == finance
    postings = list(entry.postings.select_related("account"))
    assert [(p.account.code, p.debit, p.credit, p.party_id) for p in postings] == [
        (chart.RECEIVABLE, Decimal("1250.40"), Decimal("0.00"), 7),
        (chart.REVENUE, Decimal("0.00"), Decimal("1250.40"), None),
    ]
    assert all(p.estate_id == estate.pk and p.date == MARCH for p in postings)
    event = AuditEvent.objects.get(subject_type="ledger.journalentry", subject_id=str(entry.pk))
    assert event.action == "post" and event.actor == finance and event.estate_id == estate.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "needs lines"),
        ([Line(chart.CASH, debit=Decimal("1"))], "at least two lines"),
        (
            [
                Line(chart.CASH, debit=Decimal("10.00")),
                Line(chart.RECEIVABLE, credit=Decimal("9.99")),
            ],
            "does not balance: debits 10.00 <> credits 9.99",
        ),
        (
            [Line(chart.CASH, debit=Decimal("-5")), Line(chart.RECEIVABLE, credit=Decimal("-5"))],
            "line 1 debit: -5 is negative",
        ),
        (
            [
                Line(chart.CASH, debit=Decimal("1.005")),
                Line(chart.RECEIVABLE, credit=Decimal("1.005")),
            ],
            "more than 2 decimal places",
        ),
        (
            [Line(chart.CASH, debit=1.5), Line(chart.RECEIVABLE, credit=1.5)],
            "never a float",
        ),
        (
            [
                Line(chart.CASH, debit=Decimal("5"), credit=Decimal("5")),
                Line(chart.RECEIVABLE, credit=Decimal("0")),
            ],
            "line 1: both debit and credit",
        ),
        (
            [Line(chart.CASH), Line(chart.RECEIVABLE)],
            "line 1: the amount is zero",
        ),
        (
            [Line("9999", debit=Decimal("5")), Line(chart.RECEIVABLE, credit=Decimal("5"))],
            "line 1: unknown account 9999",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_a_clear_message_and_nothing_is_written(estate, lines, message):
    # when
    with pytest.raises(DomainError) as err:
        _post(estate, lines)
    # then
    assert message in str(err.value)
    assert not JournalEntry.objects.exists() and not Posting.objects.exists()
    assert not AuditEvent.objects.filter(subject_type="ledger.journalentry").exists()


@pytest.mark.django_db
def test_a_closed_account_takes_no_postings(estate):
    # given
    Account.objects.filter(code=chart.CLEARING_POS).update(is_active=False)
    # when / then
    with pytest.raises(DomainError, match="is closed"):
        _post(
            estate,
            [
                Line(chart.CLEARING_POS, debit=Decimal("5")),
                Line(chart.RECEIVABLE, credit=Decimal("5")),
            ],
        )


@pytest.mark.django_db
def test_an_entry_without_idempotency_key_or_date_is_refused(estate):
    with pytest.raises(DomainError) as err:
        _post(estate, billing_lines("1.00"), key=" ")
    assert err.value.field == "idempotency_key"
    with pytest.raises(DomainError) as err:
        entry_post(
            estate=estate,
            date="2026-03-01",
            memo="",
            lines=billing_lines("1.00"),
            idempotency_key="x",
        )
    assert err.value.field == "date"


@pytest.mark.django_db
def test_posting_twice_with_the_same_key_gives_one_entry(estate):
    # given
    first = _post(estate, billing_lines("88.00", party_id=3), key="payment:42")
    # when the caller retries
    again = _post(estate, billing_lines("88.00", party_id=3), key="payment:42")
    # then
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1 and Posting.objects.count() == 2


@pytest.mark.django_db
def test_the_same_key_with_different_content_is_refused(estate, other_estate):
    # given
    first = _post(estate, billing_lines("88.00"), key="payment:42")
    # when / then: another amount, estate or party under the same key
    for estate_, lines in [
        (estate, billing_lines("88.01")),
        (other_estate, billing_lines("88.00")),
        (estate, billing_lines("88.00", party_id=9)),
    ]:
        with pytest.raises(DomainError, match="already used for voucher 2026-00001") as err:
            _post(estate_, lines, key="payment:42")
        assert err.value.code == "conflict"
    assert list(JournalEntry.objects.all()) == [first]


@pytest.mark.django_db
def test_voucher_numbers_run_without_gaps_per_estate_and_year(estate, other_estate, post):
    # given entries of two estates and two years, with a refused one in between
    numbers = []
    for _ in range(3):
        numbers.append(("HY", post(estate, day=date(2025, 12, 31)).voucher))
        numbers.append(("HY", post(estate, day=date(2026, 1, 2)).voucher))
        with pytest.raises(DomainError):
            post(
                estate,
                lines=[Line(chart.CASH, debit=Decimal("1")), Line(chart.BANK, credit=Decimal("2"))],
            )
        numbers.append(("LJ", post(other_estate, day=date(2026, 1, 2)).voucher))
    # then
    assert numbers == [
        ("HY", "2025-00001"), ("HY", "2026-00001"), ("LJ", "2026-00001"),
        ("HY", "2025-00002"), ("HY", "2026-00002"), ("LJ", "2026-00002"),
        ("HY", "2025-00003"), ("HY", "2026-00003"), ("LJ", "2026-00003"),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_reversal_mirrors_the_entry_and_an_entry_is_reversed_once(estate, post, make_staff):
    # given
    supervisor = make_staff("supervisor", estates=[estate])
    entry = post(estate, amount="300.00", party_id=5)
    # when
    reversal = entry_reverse(
        entry=entry, date=date(2026, 3, 5), actor=supervisor, idempotency_key="void:1"
    )
    # then
    assert reversal.reverses == entry and reversal.voucher_no == 2
    assert reversal.memo.startswith("冲销 2026-00001")
    mirrored = [(p.account_id, p.debit, p.credit, p.party_id) for p in reversal.postings.all()]
    original = [(p.account_id, p.credit, p.debit, p.party_id) for p in entry.postings.all()]
    assert mirrored == original
    assert AuditEvent.objects.filter(action="reverse", subject_id=str(reversal.pk)).exists()
    # a retry returns the same reversal; a second reversal is refused
    assert entry_reverse(entry=entry, date=date(2026, 3, 5), idempotency_key="void:1") == reversal
    with pytest.raises(DomainError, match="already reversed"):
        entry_reverse(entry=entry, date=date(2026, 3, 6), idempotency_key="void:2")
    with pytest.raises(DomainError, match="itself a reversal"):
        entry_reverse(entry=reversal, date=date(2026, 3, 6), idempotency_key="void:3")
    assert JournalEntry.objects.count() == 2


@pytest.mark.django_db
def test_a_reversal_cannot_be_dated_before_the_entry(estate, post):
    entry = post(estate, day=date(2026, 3, 10))
    with pytest.raises(DomainError) as err:
        entry_reverse(entry=entry, date=date(2026, 3, 9), idempotency_key="void:1")
    assert err.value.field == "date"


@pytest.mark.django_db
def test_a_fee_item_gets_its_revenue_sub_account_once(estate):
    # when
    first = account_ensure(code=chart.revenue_account("PARKING"), name="停车费收入", kind="income")
    again = account_ensure(code="6001.PARKING", name="renamed", kind="income")
    # then
    assert first.pk == again.pk and again.name == "停车费收入" and again.parent == "6001"
    with pytest.raises(DomainError, match="exists as income"):
        account_ensure(code="6001.PARKING", name="x", kind="asset")
    entry = _post(
        estate,
        [Line(chart.RECEIVABLE, debit=Decimal("150")), Line("6001.PARKING", credit=Decimal("150"))],
    )
    assert entry.postings.filter(account=first).get().credit == Decimal("150.00")


@pytest.mark.django_db
def test_a_payment_entry_costs_a_handful_of_queries(estate, post):
    # given the counter row exists (the estate's first voucher of the year)
    post(estate)
    lines = [
        Line(chart.CLEARING_WECHAT, debit=Decimal("200.00")),
        Line(chart.RECEIVABLE, credit=Decimal("150.00"), party_id=1),
        Line(chart.PREPAYMENTS, credit=Decimal("50.00"), party_id=1),
    ]
    # when
    with CaptureQueriesContext(connection) as queries:
        _post(estate, lines, key="payment:wechat:1")
    # then: key lookup, accounts, counter, entry, postings, audit, and savepoints
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 6, statements
