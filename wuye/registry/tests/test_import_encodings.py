"""CSV files in the encodings offices send: UTF-8, GBK and UTF-16 are read; Big5 and
Shift-JIS, which decode as GBK without an error into garbled names, are refused naming the
encoding and how to save the file; large files are read streaming."""

import io
import tracemalloc

import opencc
import pytest

from wuye.registry.imports import SHEET_NAMES, cells, columns, import_check, reading
from wuye.registry.imports.hanzi import simplified

from .fixtures.sheets import csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["楼栋", "单元", "房号", "建筑面积", "业主姓名"],
    ["1", "1", "101", "89.5", "陳大文"],
    ["1", "1", "102", "70", "黃麗華"],
    ["1", "2", "101", "70", "林志強"],
]


def _check(estate, data: bytes):
    return import_check(
        actor=None,
        estate=estate,
        kind="units",
        file=io.BytesIO(data),
        filename="units.csv",
        create_buildings=True,
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_the_encodings_offices_use_are_read(estate, encoding):
    rows = [r[:4] + ["张伟" if i else r[4]] for i, r in enumerate(ROWS)]
    report = _check(estate, csv_bytes(rows, encoding))
    assert report.ok, report.error_lines()
    assert report.preview[0]["values"]["owner_name"] == "张伟"


def test_a_gbk_file_with_a_few_rare_characters_in_names_is_read(estate):
    rows = [ROWS[0]] + [
        ["1", "1", f"1{n:02d}", "80", name]
        for n, name in enumerate(
            ["王喆", "李堃", "张犇", "刘昊", "陈晓明", "杨玥", "赵子琪", "周杰"], start=1
        )
    ]
    report = _check(estate, csv_bytes(rows, "gbk"))
    assert report.ok, report.error_lines()


def test_a_big5_file_is_refused_naming_the_encoding_and_how_to_save_it(estate):
    rows = [["樓棟", "單元", "房號", "建築面積", "業主姓名"], *ROWS[1:]]
    data = csv_bytes(rows, "big5")
    data.decode("gb18030")  # it does decode as GBK, garbled: hence the check
    report = _check(estate, data)
    [error] = report.error_lines()
    assert "Big5" in error and 'save it as "CSV UTF-8"' in error


def test_a_shift_jis_file_is_refused_naming_the_encoding(estate):
    rows = [["棟", "部屋番号", "面積", "氏名"], ["1", "101", "80", "やまだ たろう"]]
    report = _check(estate, csv_bytes(rows, "shift_jis"))
    [error] = report.error_lines()
    assert "Shift-JIS" in error


def test_a_csv_is_read_streaming_not_decoded_whole_into_memory():
    # given a GBK CSV of about 6 MB
    lines = [
        ["1", "1", str(n), "80.50", "张伟", "广东省深圳市福田区某某路某某号"]
        for n in range(120_000)
    ]
    data = csv_bytes(ROWS[:1] + lines, "gbk")
    assert len(data) > 5_000_000
    # when every row is read (and counted for the progress bar halfway)
    tracemalloc.start()
    try:
        book = reading.open_table(io.BytesIO(data), "units.csv")
        rows = book.sheets[0].rows
        next(rows), next(rows)
        assert book.sheets[0].count_rows() == 120_001
        read = 2 + sum(1 for _ in rows)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then every row came, and at no time was the text held whole (as a str it is 2-4 times
    # the file's size)
    assert read == 120_001
    assert peak < len(data) / 2, peak


def test_every_traditional_form_of_the_import_vocabulary_reads_as_simplified():
    vocabulary = {"号楼", "栋", "幢", "座", "单元"}
    for kind_columns in columns.COLUMNS.values():
        for column in kind_columns:
            vocabulary.update([column.header, *column.aliases])
    for names in SHEET_NAMES.values():
        vocabulary.update(names)
    vocabulary.update(cells.UNIT_TYPE_WORDS, cells.OCCUPANCY_WORDS, cells._YES, cells._NO)
    for config in ("s2t", "s2tw", "s2hk"):
        converter = opencc.OpenCC(config)
        for word in vocabulary:
            assert simplified(converter.convert(word)) == word, (config, word)
