"""In the browser, in Chinese: a collector opens 催收 > 欠费清单, narrows it to one building,
opens the owner's case from the row, puts dunning on hold with a reason and an expiry, and
reaches the case's ways out; the supervisor's export downloads a masked file."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from wuye.collection.models import ArrearsCase, CaseCharge, Hold

from .books import charge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_goes_from_the_arrears_list_to_a_hold_on_the_case(
    browser_login, live_server, collector, estate, unit, owner
):
    today = timezone.localdate()
    old = charge(unit, owner, "2026-05", "480.00", due=today - timedelta(days=70))
    case = ArrearsCase.objects.create(
        estate=estate,
        party=owner,
        opened_on=today,
        amount=480,
        stage_number=2,
        reason="forgot",
        assignee=collector,
        oldest_due_date=old.due_date,
    )
    CaseCharge.objects.create(case=case, charge=old, added_on=today)
    page = browser_login(collector)
    page.click("nav >> text=催收")
    page.click("nav >> text=欠费清单")
    page.wait_for_url("**/collection/arrears/")
    page.select_option("#f-building", label="1栋")
    page.click("text=筛选")
    row = page.locator('[data-test="arrears"] tbody tr', has_text="张伟")
    assert "480.00" in row.inner_text() and "忘记缴费" in row.inner_text()
    assert "480.00" in page.locator('[data-test="totals"]').inner_text()
    row.locator("a", has_text="张伟").click()
    page.wait_for_url(f"**/collection/cases/{case.pk}/")
    assert "2026-05" in page.locator('[data-test="charges"]').inner_text()
    page.fill("#id_hold_reason", "业主住院，月底出院后再联系")
    page.fill("#id_expires_on", (today + timedelta(days=20)).isoformat())
    page.click("text=暂停催收 >> nth=-1")
    page.wait_for_selector("text=本案已暂停催收。")
    assert "生效中" in page.locator('[data-test="holds"]').inner_text()
    assert Hold.objects.get(case=case).reason == "业主住院，月底出院后再联系"
    page.click('[data-test="resolution-link"]')
    page.wait_for_url(f"**/collection/cases/{case.pk}/resolution/")


def test_the_supervisor_downloads_the_masked_export(
    browser_login, live_server, supervisor, estate, unit, owner
):
    charge(unit, owner, "2026-05", "480.00", due=timezone.localdate() - timedelta(days=70))
    page = browser_login(supervisor)
    page.goto(f"{live_server.url}/collection/arrears/")
    with page.expect_download() as info:
        page.click('[data-test="export"]')
    download = info.value
    assert download.suggested_filename.startswith("arrears-HY-")
    sheet = load_workbook(io.BytesIO(download.path().read_bytes())).active
    row = list(sheet.iter_rows(values_only=True))[3]
    assert row[0] == "张伟" and row[2] == "138****5678"
