"""Importing the same opening-balance file twice: the second time every row says it is
already imported and nothing is written (no charge, prepayment, paid-up-to date, journal entry
or audit row). And the opening balances on a statement: arrears less prepaid."""

import html
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wuye.audit.models import AuditEvent
from wuye.billing import services
from wuye.billing.models import Charge, PaidUpTo, PrepaymentMovement
from wuye.billing.selectors import party_statement
from wuye.ledger.models import JournalEntry, Posting

from .test_opening import xlsx

D = Decimal
pytestmark = pytest.mark.django_db

ROWS = [
    ("1-1-301", "PROPERTY", "2026-10", "arrears", "250.60", None),
    ("1-1-301", "PROPERTY", None, "prepaid", "100.00", None),
    ("1-1-301", "PROPERTY", None, "paid_up_to", None, date(2027, 1, 31)),
]


def counts() -> dict:
    return {
        "charges": Charge.objects.count(),
        "prepayments": PrepaymentMovement.objects.count(),
        "paid_up_to": PaidUpTo.objects.count(),
        "entries": JournalEntry.objects.count(),
        "postings": Posting.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_the_same_file_again_says_already_imported_and_writes_nothing(
    owner, unit, property_fee, finance
):
    content = xlsx(ROWS)
    first = services.opening_balances_import(
        actor=finance, estate=unit.estate, content=content, as_of=date(2026, 12, 1)
    )
    assert first.ok and (first.arrears, first.prepaid, first.paid_up_to) == (1, 1, 1)
    before = counts()
    # when the same file is imported again
    again = services.opening_balances_import(
        actor=finance, estate=unit.estate, content=content, as_of=date(2026, 12, 1)
    )
    # then each row names itself as already there, and nothing at all is written
    assert [(e.row, e.column, e.reason) for e in again.errors] == [
        (2, "period", "already imported"),
        (3, "amount", "already imported"),
        (4, "date", "a paid-up-to date is already recorded"),
    ]
    assert not again.ok and counts() == before


def test_the_page_shows_already_imported_for_each_row(client, finance, owner, unit, property_fee):
    client.force_login(finance)

    def upload(**extra):
        f = SimpleUploadedFile("old.xlsx", xlsx(ROWS))
        return client.post(
            "/billing/opening/", {"estate": unit.estate_id, "file": f, **extra}, follow=True
        )

    upload(confirm="on")
    before = counts()
    page = html.unescape(upload(confirm="on").content.decode())
    assert "row 2, column period: already imported" in page
    assert "row 3, column amount: already imported" in page
    assert "row 4, column date: a paid-up-to date is already recorded" in page
    assert "Opening balances imported." not in page
    assert counts() == before


def test_opening_arrears_and_prepaid_show_on_the_statement(owner, unit, property_fee, finance):
    services.opening_balances_import(
        actor=finance, estate=unit.estate, content=xlsx(ROWS[:2]), as_of=date(2026, 12, 1)
    )
    statement = party_statement(owner)
    assert [(x.kind, x.debit, x.credit) for x in statement.lines] == [
        ("opening", D("250.60"), D("0.00")),
        ("opening_prepaid", D("0.00"), D("100.00")),
    ]
    assert (statement.open_charges, statement.prepaid, statement.closing) == (
        D("250.60"),
        D("100.00"),
        D("150.60"),
    )
