"""A staff member's first day, in a real browser: log in, switch to 繁體中文, import the
estate's units from Excel, and find a unit by the owner's phone tail."""

from pathlib import Path

import pytest
from openpyxl import Workbook

from wuye.registry.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _units_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "楼栋",
            "单元",
            "房号",
            "楼层",
            "建筑面积",
            "类型",
            "交付日期",
            "起缴日期",
            "状态",
            "业主姓名",
            "手机",
        ]
    )
    ws.append(
        [
            "1",
            "1",
            "1-1-101",
            1,
            "88.60",
            "住宅",
            "2025-06-01",
            "2025-07-01",
            "入住",
            "陈静",
            "13912348888",
        ]
    )
    ws.append(
        [
            "1",
            "1",
            "1-1-102",
            1,
            "102.35",
            "住宅",
            "2025-06-01",
            "2025-07-01",
            "空置",
            "刘洋",
            "13698765432",
        ]
    )
    wb.save(path)
    return path


def test_log_in_switch_to_traditional_import_and_find_by_phone_tail(
    browser_login, live_server, make_staff, estate, building, tmp_path
):
    # given a customer-service clerk of 华苑小区
    clerk = make_staff("customer_service", estates=[estate])
    page = browser_login(clerk)

    # when they switch the interface to 繁體中文
    with page.expect_navigation():
        page.select_option("#language-form select", "zh-hant")
    assert page.locator("html").get_attribute("lang") == "zh-hant"

    # and import the units sheet
    page.goto(f"{live_server.url}/registry/import/")
    page.select_option("#id_kind", "units")
    page.select_option("#id_estate", str(estate.pk))
    page.set_input_files("#id_file", str(_units_workbook(tmp_path / "units.xlsx")))
    page.click("#import-preview")
    page.wait_for_selector("#import-confirm")
    page.click("#import-confirm")
    page.wait_for_url("**/registry/units/**")
    assert Unit.objects.filter(estate=estate, number__in=["1-1-101", "1-1-102"]).count() == 2

    # then searching the last 4 digits of 刘洋's phone finds her unit
    page.fill("input[name=q]", "5432")
    with page.expect_navigation():
        page.click("#unit-search-submit")
    rows = page.locator("#unit-table tbody tr")
    assert rows.count() == 1
    assert "1-1-102" in rows.first.inner_text() and "刘洋" in rows.first.inner_text()
    page.screenshot(path=str(tmp_path / "units.png"))
