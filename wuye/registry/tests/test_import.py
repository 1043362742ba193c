"""Importing buildings, units and owners from staff spreadsheets (service and command line)."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wuye.audit.models import AuditEvent
from wuye.core.errors import PermissionDenied
from wuye.registry.imports import ImportRejected, import_apply, import_check
from wuye.registry.models import Building, Party, Unit, UnitParty

from .fixtures.sheets import csv_bytes, write, xlsx_bytes

UNIT_HEADER = ["楼栋", "单元", "房号", "楼层", "建筑面积", "类型", "交付日期", "起缴日期", "状态"]


def _apply(estate, kind, data, name, actor=None, **flags):
    return import_apply(
        actor=actor, estate=estate, kind=kind, file=io.BytesIO(data), filename=name, **flags
    )


def _check(estate, kind, data, name, actor=None, **flags):
    return import_check(
        actor=actor, estate=estate, kind=kind, file=io.BytesIO(data), filename=name, **flags
    )


def _counts():
    return (
        Building.objects.count(),
        Unit.objects.count(),
        Party.objects.count(),
        UnitParty.objects.count(),
    )


@pytest.mark.django_db
def test_a_messy_file_reports_every_error_with_row_and_column_and_writes_nothing(unit):
    # given: an estate with building 1 and unit 1-1-301, and a sheet with one mistake of
    # each kind (row numbers as the spreadsheet shows them, header = row 1)
    rows = [
        UNIT_HEADER + ["业主姓名", "手机"],
        ["1", "1", "1-1-101", 1, 89.5, "住宅", date(2025, 6, 1), "2025-07-01", "入住", "", ""],
        ["1", "1", "1-1-102", 1, None, "住宅", None, None, None, "", ""],  # 3 missing area
        ["1", "1", "1-1-103", 1, -5, "住宅", None, None, None, "", ""],  # 4 negative
        ["1", "1", "1-1-104", 1, 0, "住宅", None, None, None, "", ""],  # 5 zero
        ["1", "1", "1-1-105", 1, "八十", "住宅", None, None, None, "", ""],  # 6 not a number
        ["1", "1", "1-1-101", 1, 70, "住宅", None, None, None, "", ""],  # 7 duplicate in file
        ["1", "1", "1-1-301", 3, 70, "住宅", None, None, None, "", ""],  # 8 exists already
        ["9", "1", "9-1-101", 1, 70, "住宅", None, None, None, "", ""],  # 9 unknown building
        ["1", "1", "1-1-106", 1, 70, "住宅", None, None, None, "王五", "1380000"],  # 10 phone
        ["1", "1", "1-1-107", 1, 70, "住宅", "2025-02-30", "下个月", None, "", ""],  # 11 dates
        ["1", "1", "1-1-108", 1, 70, "别墅", None, None, "出租中的", "", ""],  # 12 words
    ]
    before = _counts()
    # when
    with pytest.raises(ImportRejected) as rejected:
        _apply(unit.estate, "units", xlsx_bytes(rows), "messy.xlsx")
    # then: every problem is named, by row, column and reason
    report = rejected.value.report
    found = {(e.row, e.column): e.reason for e in report.errors}
    expected = {
        (3, "建筑面积"): "missing",
        (4, "建筑面积"): "more than zero",
        (5, "建筑面积"): "more than zero",
        (6, "建筑面积"): "not a number",
        (7, "房号"): "listed twice (row 2)",
        (8, "房号"): "already exists",
        (9, "楼栋"): "unknown building 9",
        (10, "手机"): "not a valid phone number",
        (11, "交付日期"): "not a real date",
        (11, "起缴日期"): "not a date",
        (12, "类型"): "unknown value '别墅'",
        (12, "状态"): "unknown value '出租中的'",
    }
    for where, reason in expected.items():
        assert reason in found.get(where, ""), (where, found)
    assert len(report.errors) == len(expected)
    assert (
        report.error_lines()[0] == "messy.xlsx:3:建筑面积: missing: every unit needs its gross area"
    )
    # and nothing was written, not even the good row, and no import was audited
    assert _counts() == before
    assert not AuditEvent.objects.filter(action="import").exists()


@pytest.mark.django_db
def test_a_clean_xlsx_imports_units_with_their_owners(building):
    # given: one sheet with units and their owners, dates as Excel date cells and as text
    rows = [
        UNIT_HEADER + ["业主姓名", "手机", "证件号"],
        [
            "1",
            "1",
            "1-1-101",
            1,
            89.5,
            "住宅",
            datetime(2025, 6, 1),
            "2025/7/1",
            "入住",
            "张三",
            "138 0000 1111",
            "44030119800101123X",
        ],
        [
            "1",
            "2",
            "1-2-1502",
            15,
            "120.35㎡",
            "商铺",
            "2025年6月3日",
            None,
            "装修",
            "李四",
            "+86 139-0000-2222",
            "",
        ],
        ["1", None, "1-P-001", -1, 12, "车位", None, None, "空置", "", "", ""],
    ]
    # when
    report = _apply(building.estate, "units", xlsx_bytes(rows), "units.xlsx")
    # then
    assert report.ok and report.imported == 3
    flat = Unit.objects.get(number="1-1-101")
    assert flat.gross_area == Decimal("89.50") and isinstance(flat.gross_area, Decimal)
    assert (flat.handover_date, flat.fee_start_date) == (date(2025, 6, 1), date(2025, 7, 1))
    assert flat.building == building and flat.entrance == "1" and flat.occupancy == "occupied"
    shop = Unit.objects.get(number="1-2-1502")
    assert shop.gross_area == Decimal("120.35") and shop.unit_type == "commercial"
    assert shop.handover_date == date(2025, 6, 3) and shop.occupancy == "renovating"
    assert Unit.objects.get(number="1-P-001").unit_type == "parking"
    owner = UnitParty.objects.get(unit=flat)
    assert owner.party.name == "张三" and owner.party.mobile == "13800001111"
    assert owner.party.id_number == "44030119800101123X" and owner.party.phone_tails == "1111"
    assert owner.is_payer and owner.start_date == date(2025, 6, 1) and owner.end_date is None
    assert UnitParty.objects.get(unit=shop).party.mobile == "13900002222"
    # one audit row for the whole file
    event = AuditEvent.objects.get(action="import")
    assert event.estate_id == building.estate_id and event.after["units_created"] == 3
    assert event.after["ownerships_created"] == 2 and "units.xlsx" in event.summary


@pytest.mark.django_db
def test_a_gbk_csv_of_owners_records_ownership_and_the_designated_payer(unit):
    # given: a second unit, and an owners file saved by Excel on Chinese Windows (GBK)
    Unit.objects.create(
        estate=unit.estate,
        building=unit.building,
        number="1-1-302",
        gross_area=Decimal("75.00"),
        handover_date=date(2025, 6, 1),
    )
    rows = [
        [
            "房号",
            "姓名",
            "手机",
            "其他电话",
            "证件号",
            "邮箱",
            "通讯地址",
            "起始日期",
            "是否缴费人",
        ],
        [
            "1-1-301",
            "王芳",
            "13700003333",
            "0755-86001111",
            "",
            "wf@example.com",
            "深圳市南山区华苑路1号",
            "2025-06-01",
            "是",
        ],
        ["1-1-301", "王芳之夫", "", "", "", "", "", "2025-06-01", "否"],
        ["1-1-302", "赵六", "13600004444", "", "", "", "", "", ""],
    ]
    data = csv_bytes(rows, "gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    # when
    report = _apply(unit.estate, "owners", data, "owners.csv")
    # then
    assert report.ok and report.counts["ownerships_created"] == 3
    wang = Party.objects.get(name="王芳")
    assert (wang.phone_alt, wang.email) == ("0755-86001111", "wf@example.com")
    assert wang.mailing_address == "深圳市南山区华苑路1号"
    assert UnitParty.objects.get(party=wang).is_payer is True
    assert UnitParty.objects.get(party__name="王芳之夫").is_payer is False
    # a blank start date means the unit's handover date
    assert UnitParty.objects.get(party__name="赵六").start_date == date(2025, 6, 1)


@pytest.mark.django_db
def test_utf8_with_bom_and_english_headers_are_understood(building):
    rows = [
        ["building", "unit number", "gross_area", "type", "handover_date", "occupancy"],
        ["1", "1-1-101", "89.5", "residential", "2026-01-05", "vacant"],
    ]
    report = _apply(building.estate, "units", csv_bytes(rows, "utf-8-sig"), "u.csv")
    assert report.ok
    flat = Unit.objects.get(number="1-1-101")
    assert flat.occupancy == "vacant" and flat.handover_date == date(2026, 1, 5)


@pytest.mark.django_db
def test_full_width_digits_and_stray_spaces_are_normalised(building):
    # given: what a Chinese IME types in full-width mode
    rows = [
        ["楼栋", "房号", "建筑面积", "交付日期", "业主姓名", "手机"],
        [
            " １ ",
            "１－１－３０１",
            "８９．５０",
            "２０２６年１月５日",
            " 张  三 ",
            "１３８００００１１１１",
        ],
    ]
    report = _apply(building.estate, "units", csv_bytes(rows), "fw.csv")
    assert report.ok, report.error_lines()
    flat = Unit.objects.get()
    assert flat.number == "1-1-301" and flat.gross_area == Decimal("89.50")
    assert flat.floor == 3 and flat.handover_date == date(2026, 1, 5)
    party = Party.objects.get()
    assert party.name == "张 三" and party.mobile == "13800001111"


@pytest.mark.django_db
def test_reimporting_without_update_is_refused_naming_the_duplicates(building):
    # given: a file already imported once
    rows = [["楼栋", "房号", "建筑面积"], ["1", "1-1-101", 80], ["1", "1-1-102", 90]]
    _apply(building.estate, "units", xlsx_bytes(rows), "u.xlsx")
    # when: the same file again, one area corrected
    rows[2][2] = 91
    with pytest.raises(ImportRejected) as rejected:
        _apply(building.estate, "units", xlsx_bytes(rows), "u.xlsx")
    # then
    lines = rejected.value.report.error_lines()
    assert lines == [
        "u.xlsx:2:房号: unit 1-1-101 already exists (allow updates to change it)",
        "u.xlsx:3:房号: unit 1-1-102 already exists (allow updates to change it)",
    ]
    assert Unit.objects.get(number="1-1-102").gross_area == Decimal("90.00")
    # and with updates allowed only what changed is written
    report = _apply(building.estate, "units", xlsx_bytes(rows), "u.xlsx", update=True)
    assert report.counts["units_updated"] == 1 and report.counts["units_created"] == 0
    assert Unit.objects.get(number="1-1-102").gross_area == Decimal("91.00")


@pytest.mark.django_db
def test_unknown_buildings_are_created_only_when_allowed(estate):
    rows = [["楼栋", "房号", "建筑面积"], ["3栋", "3-1-101", 80], ["3", "3-1-102", 80]]
    with pytest.raises(ImportRejected):
        _apply(estate, "units", xlsx_bytes(rows), "u.xlsx")
    report = _apply(estate, "units", xlsx_bytes(rows), "u.xlsx", create_buildings=True)
    assert report.counts["buildings_created"] == 1
    building = Building.objects.get(estate=estate)
    assert (building.code, building.name) == ("3", "3栋")
    assert set(building.units.values_list("number", flat=True)) == {"3-1-101", "3-1-102"}


@pytest.mark.django_db
def test_a_buildings_file_creates_buildings_and_refuses_duplicates(estate):
    rows = [["楼栋编号", "名称", "层数"], ["1", "1栋", 18], ["2", "", "32层"], ["1", "x", 3]]
    with pytest.raises(ImportRejected) as rejected:
        _apply(estate, "buildings", xlsx_bytes(rows), "b.xlsx")
    assert rejected.value.report.error_lines() == [
        "b.xlsx:4:楼栋编号: building 1 is listed twice (row 2)"
    ]
    _apply(estate, "buildings", xlsx_bytes(rows[:3]), "b.xlsx")
    assert list(Building.objects.values_list("code", "name", "floors")) == [
        ("1", "1栋", 18),
        ("2", "2栋", 32),
    ]


@pytest.mark.django_db
def test_a_new_owner_ends_the_previous_ownership_like_a_transfer(owner, unit):
    # given: 张伟 owns 1-1-301 from 2025-06-01 (fixture)
    rows = [["房号", "姓名", "手机", "起始日期", "是否缴费人"]]
    # when: a buyer from a date before that is refused
    early = rows + [["1-1-301", "孙七", "13500005555", "2025-01-01", "是"]]
    with pytest.raises(ImportRejected) as rejected:
        _apply(unit.estate, "owners", csv_bytes(early), "o.csv")
    assert "must be later" in rejected.value.report.errors[0].reason
    # and from a later date ends 张伟's ownership the day before
    later = rows + [["1-1-301", "孙七", "13500005555", "2026-03-01", "是"]]
    report = _apply(unit.estate, "owners", csv_bytes(later), "o.csv")
    assert report.counts["ownerships_ended"] == 1
    old = UnitParty.objects.get(party=owner)
    assert old.end_date == date(2026, 2, 28)
    new = UnitParty.objects.get(party__name="孙七")
    assert new.is_payer and new.end_date is None
    # and importing the same owner again is refused
    with pytest.raises(ImportRejected) as again:
        _apply(unit.estate, "owners", csv_bytes(later), "o.csv")
    assert "already recorded as owner" in again.value.report.errors[0].reason


@pytest.mark.django_db
def test_an_owners_file_naming_an_unknown_unit_is_refused(unit):
    rows = [["房号", "姓名"], ["9-9-999", "周八"], ["1-1-301", ""]]
    with pytest.raises(ImportRejected) as rejected:
        _apply(unit.estate, "owners", xlsx_bytes(rows), "o.xlsx")
    assert rejected.value.report.error_lines() == [
        "o.xlsx:2:房号: unknown unit 9-9-999 (import the units first)",
        "o.xlsx:3:姓名: missing owner name",
    ]


@pytest.mark.django_db
def test_a_file_without_the_required_columns_says_which_are_missing(building):
    report = _check(building.estate, "units", csv_bytes([["楼栋", "面积x"], ["1", "3"]]), "u.csv")
    assert report.error_lines() == [
        "u.csv:1:房号: required column is missing",
        "u.csv:1:建筑面积: required column is missing",
    ]


@pytest.mark.django_db
def test_a_title_line_above_the_header_is_skipped_and_rows_keep_their_numbers(building):
    rows = [["华苑小区房屋清单"], ["楼栋", "房号", "建筑面积"], ["1", "1-1-101", "x"]]
    report = _check(building.estate, "units", xlsx_bytes(rows), "u.xlsx")
    assert report.error_lines() == ["u.xlsx:3:建筑面积: not a number: x"]


@pytest.mark.django_db
def test_staff_without_the_import_permission_or_of_another_estate_are_refused(
    make_staff, building, other_estate
):
    rows = [["楼栋", "房号", "建筑面积"], ["1", "1-1-101", 80]]
    cashier = make_staff("cashier", estates=[building.estate])
    stranger = make_staff("customer_service", estates=[other_estate])
    for actor in (cashier, stranger):
        with pytest.raises(PermissionDenied):
            _apply(building.estate, "units", xlsx_bytes(rows), "u.xlsx", actor=actor)
    assert not Unit.objects.exists()
    clerk = make_staff("customer_service", estates=[building.estate])
    _apply(building.estate, "units", xlsx_bytes(rows), "u.xlsx", actor=clerk)
    assert AuditEvent.objects.get(action="import").actor == clerk


# --- the command line ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_exits_non_zero_and_prints_each_error(building, tmp_path, capsys):
    path = write(
        tmp_path,
        "bad.csv",
        csv_bytes([["楼栋", "房号", "建筑面积"], ["1", "1-1-101", "-1"], ["7", "7-1-101", "80"]]),
    )
    with pytest.raises(CommandError, match="2 errors"):
        call_command("import", "units", str(path), "--estate", "HY")
    err = capsys.readouterr().err
    assert f"{path}:2:建筑面积: must be more than zero (is -1)" in err
    assert f"{path}:3:楼栋: unknown building 7" in err
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_the_command_dry_run_checks_and_writes_nothing_then_imports(building, tmp_path, capsys):
    path = write(
        tmp_path, "u.xlsx", xlsx_bytes([["楼栋", "房号", "建筑面积"], ["1", "1-1-101", 80]])
    )
    call_command("import", "units", str(path), "--estate", "HY", "--dry-run")
    assert "nothing written" in capsys.readouterr().out and not Unit.objects.exists()
    call_command("import", "units", str(path), "--estate", "HY")
    assert Unit.objects.count() == 1
    event = AuditEvent.objects.get(action="import")
    assert event.source == "cli" and event.actor is None


@pytest.mark.django_db
def test_the_command_acts_as_a_user_with_their_permissions(make_staff, building, tmp_path):
    cashier = make_staff("cashier", estates=[building.estate])
    path = write(tmp_path, "u.csv", csv_bytes([["楼栋", "房号", "建筑面积"], ["1", "1-1-101", 80]]))
    with pytest.raises(CommandError, match="may not import"):
        call_command("import", "units", str(path), "--estate", "HY", "--user", cashier.username)
    with pytest.raises(CommandError, match="no estate"):
        call_command("import", "units", str(path), "--estate", "NOPE")


def test_an_old_xls_or_a_binary_file_is_refused_with_a_hint():
    from wuye.registry.imports.reading import FileUnreadable, open_table

    with pytest.raises(FileUnreadable, match="save it as .xlsx"):
        open_table(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), "old.xls")
    with pytest.raises(FileUnreadable, match="neither UTF-8 nor GBK"):
        open_table(io.BytesIO(b"abc\x81\xff\x80"), "x.csv")


def test_the_lean_xlsx_reader_reads_what_openpyxl_reads():
    # given: a sheet with text, numbers, dates, booleans, blanks and a gap row
    from openpyxl import load_workbook

    from wuye.registry.imports.reading import open_table

    rows = [
        ["房号", "建筑面积", "交付日期", "是否", "空"],
        ["1-1-101", 89.5, datetime(2025, 6, 1), True, None],
        [None, None, None, None, None],
        ["１－２－３０１", 120, date(2026, 1, 5), False, "x"],
        ["=not a formula", -1.25e-3, "2026年1月5日", None, None],
    ]
    data = xlsx_bytes(rows)
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = [
        (n, tuple(v for v in row))
        for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
        if any(v is not None for v in row)
    ]
    # when
    table = open_table(io.BytesIO(data), "x.xlsx")
    got = [(n, row) for n, row in table.sheets[0].rows if row]
    table.close()

    # then: the same values in the same rows (trailing blanks trimmed)
    def trim(row):
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        return tuple(row)

    assert [(n, trim(r)) for n, r in got] == [(n, trim(r)) for n, r in expected]
