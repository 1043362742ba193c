import io
from datetime import date

import pytest
from openpyxl import load_workbook

from wuye.audit.models import AuditEvent

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def books(estate, other_estate, post):
    """Estate HY bills 1250.40; estate LJ bills 777.00 (which HY's staff must never see)."""
    mine = post(estate, "1250.40", day=date(2026, 3, 1), memo="HY 三月物业费")
    theirs = post(other_estate, "777.00", day=date(2026, 3, 2), memo="LJ 三月物业费")
    return mine, theirs


@pytest.mark.django_db
def test_the_trial_balance_page_shows_only_the_users_estates(client, make_staff, books):
    # given
    mine, theirs = books
    client.force_login(make_staff("finance", estates=[mine.estate]))
    # when
    page = client.get("/ledger/trial-balance/", MARCH)
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "1,250.40" in html and "777.00" not in html
    assert page.context["report"].is_balanced


@pytest.mark.django_db
def test_asking_for_another_estates_trial_balance_is_a_404(client, make_staff, books):
    mine, theirs = books
    client.force_login(make_staff("finance", estates=[mine.estate]))
    assert client.get("/ledger/trial-balance/", {"estate": theirs.estate_id}).status_code == 404
    assert client.get("/ledger/trial-balance/", {"estate": "x"}).status_code == 400
    page = client.get("/ledger/trial-balance/", {"estate": mine.estate_id, **MARCH})
    assert page.status_code == 200 and "1,250.40" in page.content.decode()


@pytest.mark.django_db
def test_an_auditor_reads_every_estate_and_a_cashier_no_ledger(client, make_staff, books):
    client.force_login(make_staff("auditor"))
    html = client.get("/ledger/trial-balance/", MARCH).content.decode()
    assert "2,027.40" in html  # both estates together
    other = client.get("/ledger/trial-balance/", {"estate": books[1].estate_id, **MARCH})
    assert "777.00" in other.content.decode()
    client.force_login(make_staff("cashier", estates=[books[0].estate]))
    assert client.get("/ledger/trial-balance/").status_code == 403
    assert client.get("/ledger/journal/").status_code == 403


@pytest.mark.django_db
def test_the_journal_lists_entries_with_their_postings_of_the_users_estates(
    client, make_staff, books
):
    # given
    mine, theirs = books
    client.force_login(make_staff("finance", estates=[mine.estate]))
    # when
    html = client.get("/ledger/journal/", MARCH).content.decode()
    # then
    assert "HY 三月物业费" in html and "应收账款" in html and "1,250.40" in html
    assert "LJ 三月物业费" not in html
    assert client.get(f"/ledger/journal/{mine.pk}/").status_code == 200
    assert client.get(f"/ledger/journal/{theirs.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_journal_offers_the_voucher_download_and_it_is_audited(client, make_staff, books):
    # given
    mine, theirs = books
    finance = make_staff("finance", estates=[mine.estate])
    client.force_login(finance)
    journal = client.get("/ledger/journal/", {"estate": mine.estate_id, **MARCH}).content
    link = f"/ledger/export/?estate={mine.estate_id}&amp;from=2026-03-01&amp;to=2026-03-31"
    assert link.encode() in journal
    # when
    response = client.get("/ledger/export/", {"estate": mine.estate_id, **MARCH})
    # then
    assert response.status_code == 200
    assert 'filename="vouchers-HY-20260301-20260331.xlsx"' in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["HY 三月物业费", "HY 三月物业费"]
    assert AuditEvent.objects.filter(action="export", actor=finance).count() == 1
    # another estate's vouchers do not exist for this user
    other = client.get("/ledger/export/", {"estate": theirs.estate_id, **MARCH})
    assert other.status_code == 404
    csv_response = client.get(
        "/ledger/export/", {"estate": mine.estate_id, "format": "csv", **MARCH}
    )
    assert csv_response.content.decode("utf-8-sig").count("HY 三月物业费") == 2


@pytest.mark.django_db
def test_an_auditor_may_read_the_journal_but_not_export_vouchers(client, make_staff, books):
    client.force_login(make_staff("auditor"))
    assert b"/ledger/export/" not in client.get("/ledger/journal/", MARCH).content
    assert client.get("/ledger/export/", {"estate": books[0].estate_id}).status_code == 403
