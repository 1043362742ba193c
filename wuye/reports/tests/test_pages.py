"""The dashboard, the drill-down, the tables and their exports, the PDF report and the API,
for the roles that use them; another estate is a 404; every export is audited."""

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from wuye.audit.models import AuditEvent

AS_OF = "2026-12-07"


@pytest.fixture
def books(estate, households, bill, cashier, shift_on):
    from wuye.payments.services import payment_take

    bill("2026-11", date(2026, 11, 1))
    bill("2026-12", date(2026, 12, 1))
    shift_on(date(2026, 12, 3))
    payment_take(
        actor=cashier,
        party=households["A1"][1],
        amount="400.00",
        channel="cash",
        today=date(2026, 12, 3),
    )
    households["A2"][1].name = "=HYPERLINK(1)"
    households["A2"][1].save()
    return households


def test_dashboard_shows_figures_with_definitions_and_drill_links(client, supervisor, books):
    client.force_login(supervisor)
    page = client.get("/reports/", {"as_of": AS_OF}).content.decode()
    assert "Collection rate this month" in page and "33.33%" in page  # 200 of 600 in Dec
    assert "Household collection rate" in page
    assert "money applied to the period" in page  # the definition stands next to the figure
    assert "<svg" in page and "/reports/drill/?" in page
    building = books["A2"][0].building
    drill = client.get("/reports/drill/", {"building": building.pk, "as_of": AS_OF})
    text = drill.content.decode()
    assert drill.status_code == 200 and "1-1-102" in text and "1-1-101" not in text
    assert f"/registry/parties/{books['A2'][1].pk}/" in text


def test_another_estate_is_a_404(client, make_staff, other_estate, books, estate):
    stranger = make_staff("supervisor", estates=[other_estate])
    client.force_login(stranger)
    assert client.get("/reports/", {"estate": estate.pk}).status_code == 404
    assert client.get("/api/v1/reports/aging/", {"estate": estate.pk}).status_code == 404


def test_a_cashier_sees_no_reports(client, cashier, books):
    client.force_login(cashier)
    assert client.get("/reports/").status_code == 403
    assert client.get("/api/v1/reports/dashboard/").status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "fee-summary",
        "by-building",
        "by-item",
        "fee-detail",
        "arrears-detail",
        "arrears-list",
        "payment-detail",
        "payment-list",
        "owner-months",
        "fee-ledger",
        "deposits",
        "units-without-fees",
        "expiring-prepayments",
        "by-method",
        "by-cashier",
    ],
)
def test_every_table_opens_and_exports_audited(client, finance, books, name):
    client.force_login(finance)
    params = {"start": "2026-11-01", "end": "2026-12-31"}
    assert client.get(f"/reports/tables/{name}/", params).status_code == 200
    response = client.get(f"/reports/tables/{name}/xlsx/", params)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(1, 1).value
    event = AuditEvent.objects.get(action="export", subject_id=name)
    assert event.actor_id == finance.pk and "2026-11-01" in event.summary


def test_the_fee_summary_adds_up_and_formulas_stay_text(client, finance, books):
    client.force_login(finance)
    params = {"start": "2026-12-01", "end": "2026-12-31"}
    rows = client.get("/api/v1/reports/tables/fee-summary/", params).json()["rows"]
    # Dec: receivable 600.00; received current 200 (A1 Dec) + arrears 200 (A1 Nov); owed 800
    assert rows == [
        ["华苑小区", "物业服务费", "600.00", "0.00", "200.00", "200.00", "0.00", "400.00", "800.00"]
    ]
    response = client.get("/reports/tables/arrears-list/xlsx/", params)
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "=HYPERLINK(1)" in values  # stored as text, not a formula
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


def test_unpaid_list_masks_phones_unless_the_role_may_see_them(client, finance, supervisor, books):
    params = {"start": "2026-12-01", "end": "2026-12-31"}
    client.force_login(finance)
    masked = client.get("/api/v1/reports/tables/arrears-list/", params).json()["rows"]
    assert masked and all("13800000000" not in str(r) for r in masked)
    client.force_login(supervisor)
    shown = client.get("/api/v1/reports/tables/arrears-list/", params).json()["rows"]
    assert any("13800000000" in str(r) for r in shown)


def test_api_gives_every_figure(client, supervisor, books):
    client.force_login(supervisor)
    body = client.get("/api/v1/reports/dashboard/", {"as_of": AS_OF}).json()
    assert body["month_rate"]["part"] == "200.00" and body["month_rate"]["whole"] == "600.00"
    assert "collection_rate" in body["definitions"]
    for name in [
        "rates",
        "year-rate",
        "clearance-rate",
        "aging",
        "split",
        "trend",
        "arrears-by-building",
        "channels",
        "cashiers",
        "reasons",
        "collectors",
        "drill",
    ]:
        response = client.get(f"/api/v1/reports/{name}/", {"as_of": AS_OF})
        assert response.status_code == 200, name
    rates = client.get("/api/v1/reports/rates/", {"period": "2026-11", "as_of": AS_OF}).json()
    assert rates["cumulative_rate"]["part"] == "200.00" and "definition" in rates


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) missing")
def test_the_collection_report_pdf(client, supervisor, books, estate):
    client.force_login(supervisor)
    for kind in ("month", "quarter"):
        response = client.get(
            "/reports/collection-report/", {"estate": estate.pk, "as_of": AS_OF, "kind": kind}
        )
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        assert "华苑小区" in text and "2026-12" in text and "1-1-102" in text
    assert AuditEvent.objects.filter(action="export", subject_id="collection-report-month").exists()
