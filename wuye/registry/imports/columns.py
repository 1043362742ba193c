"""The columns of each import kind: the Chinese header staff type (and exports write), the
English aliases accepted, and how each cell is read."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from wuye.core.normalize import clean_text

from . import cells
from .hanzi import simplified


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as exports write it and as messages name a missing column
    aliases: tuple[str, ...]
    parse: Callable[[object], object]
    required: bool = False


def _text(max_length: int) -> Callable[[object], str]:
    return lambda value: cells.text(value, max_length=max_length)


BUILDING_COLUMNS = [
    Column(
        "code",
        "楼栋编号",
        ("编号", "楼栋", "楼号", "code", "building code", "building"),
        _text(20),
        required=True,
    ),
    Column("name", "名称", ("楼栋名称", "name", "building name"), _text(50)),
    Column("floors", "层数", ("总层数", "floors"), cells.positive_int),
]

UNIT_COLUMNS = [
    Column("building", "楼栋", ("楼号", "楼栋编号", "栋", "building", "building code"), _text(50)),
    Column("entrance", "单元", ("entrance", "单元号"), _text(10)),
    Column(
        "number",
        "房号",
        ("房屋编号", "房间号", "unit number", "unit", "number", "unit_no"),
        cells.unit_number,
        required=True,
    ),
    Column("floor", "楼层", ("层", "所在楼层", "floor"), cells.floor),
    Column(
        "gross_area",
        "建筑面积",
        ("面积", "gross area", "area"),
        cells.positive_decimal,
        required=True,
    ),
    Column("unit_type", "类型", ("房屋类型", "用途", "型别", "type", "unit type"), cells.unit_type),
    Column(
        "handover_date",
        "交付日期",
        ("交房日期", "收楼日期", "handover date", "handover"),
        cells.a_date,
    ),
    Column(
        "fee_start_date", "起缴日期", ("计费日期", "起始计费日期", "fee start date"), cells.a_date
    ),
    Column("occupancy", "状态", ("入住状态", "occupancy", "status"), cells.occupancy),
    Column("owner_name", "业主姓名", ("业主", "姓名", "owner name", "owner"), _text(100)),
    Column("mobile", "手机", ("手机号", "手机号码", "mobile", "phone"), cells.phone),
    Column(
        "id_number",
        "证件号",
        ("证件号码", "身份证号", "身份证号码", "id number", "id"),
        cells.id_number,
    ),
]

OWNER_COLUMNS = [
    Column(
        "unit",
        "房号",
        ("房屋编号", "房间号", "unit number", "unit", "number"),
        cells.unit_number,
        required=True,
    ),
    Column(
        "name",
        "姓名",
        ("业主姓名", "业主", "name", "owner name", "owner"),
        _text(100),
        required=True,
    ),
    Column("mobile", "手机", ("手机号", "手机号码", "mobile", "phone"), cells.phone),
    Column(
        "phone_alt",
        "其他电话",
        ("备用电话", "座机", "联系电话", "联络电话", "other phone", "phone alt"),
        cells.phone,
    ),
    Column(
        "id_number",
        "证件号",
        ("证件号码", "身份证号", "身份证号码", "id number", "id"),
        cells.id_number,
    ),
    Column("email", "邮箱", ("电子邮箱", "email", "e-mail"), cells.email),
    Column("mailing_address", "通讯地址", ("地址", "mailing address", "address"), _text(255)),
    Column(
        "start_date",
        "起始日期",
        ("开始日期", "产权起始日期", "start date", "ownership start", "since"),
        cells.a_date,
    ),
    Column("is_payer", "是否缴费人", ("缴费人", "is payer", "payer"), cells.yes_no),
]

# An owners sheet may also give the unit as 楼栋, 单元 and 房号 in columns of their own (the
# unit's code is composed from them, as on the units sheet); exports write the full 房号.
OWNER_PLACE_COLUMNS = [
    Column("building", "楼栋", ("楼号", "楼栋编号", "栋", "building", "building code"), _text(50)),
    Column("entrance", "单元", ("entrance", "单元号"), _text(10)),
]

COLUMNS = {
    "buildings": BUILDING_COLUMNS,
    "units": UNIT_COLUMNS,
    "owners": OWNER_COLUMNS + OWNER_PLACE_COLUMNS,
}

_PARENTHESES = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = re.compile(r"[\s_\-:：*]")


def header_key(value: object) -> str:
    """`建筑面积（㎡）`, `建筑面积 *`, `建築面積` and `Gross_Area` compare as `建筑面积` and
    `grossarea`."""
    text = simplified(_PARENTHESES.sub("", clean_text(value)).lower())
    return _SEPARATORS.sub("", text)


def lookup(kind: str) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for name in (column.header, column.key, *column.aliases):
            table.setdefault(header_key(name), column)
    return table
