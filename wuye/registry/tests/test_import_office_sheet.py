"""The unit sheet as Chinese offices keep it: 楼栋, 单元 and 房号 in columns of their own, 房号
repeated in every building; in simplified or traditional characters; imported again with
updates it changes nothing; ID numbers checked digit by digit."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from stdnum.cn import ric

from wuye.registry.imports import import_apply, import_check
from wuye.registry.models import Building, Estate, Party, Unit, UnitParty

from .fixtures.sheets import csv_bytes, write, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = [
    "楼栋",
    "单元",
    "房号",
    "建筑面积",
    "类型",
    "交付日期",
    "状态",
    "业主姓名",
    "手机",
    "证件号",
]
# resident ID numbers with the right check digit (the first is 11010519491231002X)
IDS = [
    first17 + ric.calc_check_digit(first17 + "0")
    for first17 in (
        "11010519491231002",
        "44030119800101123",
        "31010119900307001",
        "11010120000101001",
    )
]


def office_rows() -> list[list]:
    """Two buildings of two entrances, rooms 101 and 102 in each: 房号 repeats eight ways."""
    rows = [HEADER]
    n = 0
    for building in ("1栋", "2栋"):
        for entrance in ("1单元", "2单元"):
            for room in ("101", "102"):
                n += 1
                rows.append(
                    [
                        building,
                        entrance,
                        room,
                        f"{80 + n}.50",
                        "住宅",
                        date(2025, 6, 1),
                        "入住",
                        f"业主{n}",
                        f"1390000{n:04d}",
                        IDS[n % len(IDS)],
                    ]
                )
    return rows


def _apply(estate, data, name="units.xlsx", kind="units", **flags):
    return import_apply(
        actor=None, estate=estate, kind=kind, file=io.BytesIO(data), filename=name, **flags
    )


def _check(estate, data, name="units.xlsx", kind="units", **flags):
    return import_check(
        actor=None, estate=estate, kind=kind, file=io.BytesIO(data), filename=name, **flags
    )


def test_a_sheet_with_the_room_number_repeated_in_every_building_imports_by_composed_codes(
    estate,
):
    # given the office's sheet: 房号 101 and 102 in each of 2 buildings x 2 entrances
    report = _apply(estate, xlsx_bytes(office_rows()), create_buildings=True)
    # then eight units, each coded 楼栋-单元-房号, with no false duplicate
    assert report.ok and report.counts["units_created"] == 8
    codes = sorted(Unit.objects.values_list("number", flat=True))
    assert codes == [f"{b}-{e}-{r}" for b in "12" for e in "12" for r in ("101", "102")]
    unit = Unit.objects.get(number="2-1-102")
    assert (unit.building.code, unit.entrance, unit.floor) == ("2", "1", 1)
    assert unit.gross_area == Decimal("86.50")
    assert UnitParty.objects.get(unit=unit).party.name == "业主6"


def test_a_check_alone_counts_the_new_records_without_keeping_them(estate):
    report = _check(estate, xlsx_bytes(office_rows()), create_buildings=True)
    assert report.ok and report.counts["units_created"] == 8
    assert report.counts["parties_created"] == report.counts["ownerships_created"] == 8
    plan = report.checked.plan
    assert not list(plan.units_new) and not list(plan.parties_new)
    assert not list(plan.relations_new)


def test_a_real_duplicate_is_still_named_by_its_full_code(estate):
    rows = office_rows()
    rows.append(list(rows[3]))  # 1栋 2单元 101 twice
    report = _check(estate, xlsx_bytes(rows), create_buildings=True)
    assert report.error_lines() == ["units.xlsx:10:房号: unit 1-2-101 is listed twice (row 4)"]


def test_a_sheet_with_full_room_numbers_keeps_working(estate, building):
    rows = [["楼栋", "单元", "房号", "建筑面积"], ["1", "2", "1-2-301", 90], ["1", "", "1-302", 91]]
    report = _apply(estate, csv_bytes(rows), name="units.csv")
    assert report.ok
    assert sorted(Unit.objects.values_list("number", flat=True)) == ["1-2-301", "1-302"]


def test_without_an_entrance_column_the_code_is_building_and_room(estate, building):
    rows = [["楼栋", "房号", "建筑面积"], ["1栋", "1201", 90], ["1栋", "1202", 91]]
    assert _apply(estate, csv_bytes(rows), name="units.csv").ok
    unit = Unit.objects.get(number="1-1201")
    assert unit.floor == 12 and unit.entrance == ""


def test_a_sheet_in_traditional_characters_imports_as_the_simplified_one(db):
    # given headers and values as an office typing traditional characters writes them
    rows = [
        ["樓棟", "單元", "房號", "建築面積", "類型", "狀態", "業主姓名", "手機號碼", "證件號碼"],
        ["1棟", "2單元", "301", "89.5㎡", "商鋪", "裝修", "陳大文", "13900001111", IDS[0]],
        ["1棟", "二單元", "302", "70", "車位", "空置", "", "", ""],
        ["三號樓", "1單元", "301", "70", "儲藏室", "已入住", "", "", ""],
    ]
    for name, data in (
        ("units.xlsx", xlsx_bytes(rows, title="房屋清單")),
        ("units.csv", csv_bytes(rows)),
    ):
        estate = Estate.objects.create(code=name[-4:].upper(), name=name)
        report = _apply(estate, data, name=name, create_buildings=True)
        assert report.ok, report.error_lines()
        units = Unit.objects.filter(estate=estate)
        shop = units.get(number="1-2-301")
        assert (shop.unit_type, shop.occupancy, shop.entrance) == ("commercial", "renovating", "2")
        assert units.get(number="1-2-302").unit_type == "parking"
        assert units.get(number="3-1-301").unit_type == "storage"
        assert UnitParty.objects.get(unit=shop).party.name == "陳大文"  # a name stays as typed
        codes = set(Building.objects.filter(estate=estate).values_list("code", flat=True))
        assert codes == {"1", "3"}


def test_an_update_with_identical_data_reports_no_change(estate, tmp_path):
    # given the office's sheet imported once, owners and all
    path = write(tmp_path, "units.xlsx", xlsx_bytes(office_rows()))
    call_command("import", "units", str(path), estate=estate.code, create_buildings=True)
    # when the same sheet is imported again with updates allowed
    out = io.StringIO()
    call_command("import", "units", str(path), estate=estate.code, update=True, stdout=out)
    # then nothing is changed, and the command says so
    assert out.getvalue().strip() == f"{path}: 8 rows imported (no changes)"
    report = _check(estate, path.read_bytes(), update=True)
    assert report.ok and set(report.counts.values()) == {0}


def test_a_unit_recorded_by_its_room_number_alone_is_found_under_the_composed_code(
    estate, building
):
    # given a unit recorded as "301" in building 1, before codes were composed
    Unit.objects.create(estate=estate, building=building, number="301", gross_area=80)
    rows = [["楼栋", "房号", "建筑面积"], ["1栋", "301", "85"]]
    report = _apply(estate, csv_bytes(rows), name="units.csv", update=True)
    assert report.ok and report.counts["units_updated"] == 1
    assert Unit.objects.get().gross_area == Decimal("85.00")


def test_an_owners_sheet_may_give_the_unit_as_building_entrance_and_room(estate):
    _apply(estate, xlsx_bytes([r[:7] for r in office_rows()]), create_buildings=True)
    rows = [
        ["楼栋", "单元", "房号", "姓名", "手机"],
        ["2栋", "1单元", "102", "李娜", "13900002222"],
    ]
    report = _apply(estate, csv_bytes(rows), name="owners.csv", kind="owners")
    assert report.ok, report.error_lines()
    assert UnitParty.objects.get(party__name="李娜").unit.number == "2-1-102"


def test_a_bad_id_number_is_an_error_at_its_row_and_column(estate):
    rows = office_rows()[:4]
    rows[2][9] = "440301198001011234"  # check digit should be 6
    rows[3][9] = "44030119800101123"  # a digit short
    report = _check(estate, xlsx_bytes(rows), create_buildings=True)
    assert report.error_lines() == [
        "units.xlsx:3:证件号: the ID number's last character does not match the other 17 (a "
        "digit was mistyped): check it against the ID card",
        "units.xlsx:4:证件号: the ID number has 17 digits; a resident ID card number has 18",
    ]
    assert not Party.objects.exists()


def test_the_owner_form_and_the_api_refuse_a_bad_id_number(client, make_staff, owner):
    clerk = make_staff("customer_service", estates=[owner.estate])
    client.force_login(clerk)
    page = client.post(
        reverse("registry:party_edit", args=[owner.pk]),
        {
            "name": "张伟",
            "kind": owner.kind,
            "mobile": "13812345678",
            "id_number": "440301198001011234",
        },
    )
    assert page.status_code == 200
    assert "does not match the other 17" in page.content.decode()
    api = APIClient()
    api.force_login(clerk)
    refused = api.patch(
        reverse("api:party-detail", args=[owner.pk]),
        {"id_number": "110105194912310021"},
        format="json",
    )
    assert refused.status_code == 400 and refused.data["field"] == "id_number"
    owner.refresh_from_db()
    assert owner.id_number == "44030119800101123X"
    accepted = api.patch(
        reverse("api:party-detail", args=[owner.pk]),
        {"id_number": "11010519491231002x"},
        format="json",
    )
    assert accepted.status_code == 200
    owner.refresh_from_db()
    assert owner.id_number == "11010519491231002X"


def test_new_owners_in_different_batches_never_share_a_payment_reference(estate, monkeypatch):
    # given references drawn so that the second batch's first repeats the first batch's
    from wuye.registry.imports import write

    drawn = iter(["WYAAAAAAAA", "WYBBBBBBBB", "WYAAAAAAAA", "WYCCCCCCCC", "WYDDDDDDDD"] * 4)
    monkeypatch.setattr(write, "new_payment_ref", lambda: next(drawn))
    monkeypatch.setattr(write, "BATCH", 2)
    # when four new owners are imported
    report = _apply(estate, xlsx_bytes(office_rows()[:5]), create_buildings=True)
    # then each has a reference of its own
    assert report.ok
    refs = list(Party.objects.values_list("payment_ref", flat=True))
    assert len(refs) == 4 and len(set(refs)) == 4
