"""The monthly accounting period close (结账): once a month is closed nothing is posted with a
date in it, by the service and, on PostgreSQL, by the database; months close in order, after
they ended; the page, the CLI and the API close a month, each audited (issue 11 §17)."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, connection, transaction
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.ledger.models import JournalEntry, PeriodClose
from wuye.ledger.services import entry_post, period_close

from .helpers import billing_lines, postgresql_only

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 7)


@pytest.fixture
def finance(make_staff, estate):
    return make_staff("finance", estates=[estate])


def _post(estate, day, key):
    return entry_post(
        estate=estate, date=day, memo="bill", lines=billing_lines("10.00"), idempotency_key=key
    )


def test_nothing_is_posted_into_a_closed_month(estate, finance):
    _post(estate, date(2026, 10, 31), "oct")
    period_close(actor=finance, estate=estate, month=date(2026, 10, 1), today=TODAY)
    with pytest.raises(DomainError) as err:
        _post(estate, date(2026, 10, 15), "late")
    assert err.value.code == "period_closed" and "2026-10" in err.value.message
    # the next month is open
    _post(estate, date(2026, 11, 1), "nov")


def test_months_close_in_order_and_only_after_they_ended(estate, finance):
    _post(estate, date(2026, 9, 30), "sep")
    with pytest.raises(DomainError, match="2026-09"):
        period_close(actor=finance, estate=estate, month=date(2026, 10, 1), today=TODAY)
    with pytest.raises(DomainError, match="not ended"):
        period_close(actor=finance, estate=estate, month=date(2026, 12, 1), today=TODAY)
    period_close(actor=finance, estate=estate, month=date(2026, 9, 1), today=TODAY)
    period_close(actor=finance, estate=estate, month=date(2026, 10, 1), today=TODAY)
    with pytest.raises(DomainError, match="already closed"):
        period_close(actor=finance, estate=estate, month=date(2026, 10, 1), today=TODAY)
    assert AuditEvent.objects.filter(subject_type__icontains="periodclose").count() == 2


def test_a_cashier_cannot_close_a_month(estate, make_staff):
    with pytest.raises(PermissionDenied):
        period_close(
            actor=make_staff("cashier", estates=[estate]),
            estate=estate,
            month=date(2026, 10, 1),
            today=TODAY,
        )


def test_the_cli_closes_a_month_and_lists_it(estate, finance):
    out = StringIO()
    call_command(
        "period-close", estate=estate.code, month="2026-11", user=finance.username, stdout=out
    )
    assert f"{estate.code} 2026-11 closed" in out.getvalue()
    listed = StringIO()
    call_command("period-close", estate=estate.code, show=True, stdout=listed)
    assert listed.getvalue().startswith("2026-11 closed")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("period-close", estate=estate.code, month="11/2026", user=finance.username)


def test_finance_closes_a_month_on_the_page(client, estate, finance, make_staff):
    client.force_login(finance)
    page = client.get("/ledger/periods/").content.decode()
    assert 'id="period-close"' in page
    response = client.post(
        "/ledger/periods/", {"estate": estate.pk, "month": "2026-11", "note": "11月结账"}
    )
    assert response.status_code == 302
    assert PeriodClose.objects.get().month == date(2026, 11, 1)
    page = client.get("/ledger/periods/").content.decode()
    assert "2026-11" in page and "11月结账" in page
    # an auditor reads the list, and may not close
    client.force_login(make_staff("auditor", estates=[estate]))
    assert 'id="period-close"' not in client.get("/ledger/periods/").content.decode()
    denied = client.post("/ledger/periods/", {"estate": estate.pk, "month": "2026-10"})
    assert denied.status_code == 403


def test_the_api_closes_a_month(estate, finance, other_estate):
    api = APIClient()
    api.force_authenticate(finance)
    made = api.post(
        "/api/v1/ledger/periods/",
        {"estate": estate.pk, "month": "2026-11"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pc-1",
    )
    assert made.status_code == 201 and made.json()["month"] == "2026-11"
    assert api.get("/api/v1/ledger/periods/").json()["results"][0]["month"] == "2026-11"
    other = api.post(
        "/api/v1/ledger/periods/",
        {"estate": other_estate.pk, "month": "2026-11"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pc-2",
    )
    assert other.status_code == 404


@postgresql_only
def test_the_database_refuses_an_entry_dated_in_a_closed_month(estate, finance):
    period_close(actor=finance, estate=estate, month=date(2026, 10, 1), today=TODAY)
    with (
        pytest.raises((IntegrityError, InternalError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO ledger_journalentry (estate_id, date, voucher_year, voucher_no, "
            "memo, source_type, source_id, idempotency_key, created_at) "
            "VALUES (%s, %s, 2026, 999, '', '', '', 'raw-1', now())",
            [estate.pk, date(2026, 10, 3)],
        )
    assert not JournalEntry.objects.filter(idempotency_key="raw-1").exists()
