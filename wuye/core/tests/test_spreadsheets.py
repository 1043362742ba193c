"""The upload guard against zip bombs and sheets too large to read (wuye.core.spreadsheets)."""

import io

import pytest

from wuye.core import spreadsheets
from wuye.core.spreadsheets import SpreadsheetRefused, open_xlsx, within_budget, xlsx_check

from .bombs import _plain_xlsx, bomb_xlsx


def test_a_bomb_is_refused_from_its_directory_without_expanding_it():
    # given a file of a few KB whose worksheet expands a thousand times
    data = bomb_xlsx(40)
    assert len(data) < 200_000
    # when it is checked
    with pytest.raises(SpreadsheetRefused) as refused:
        xlsx_check(io.BytesIO(data))
    # then it is refused from the directory alone, naming the part and saying what to do
    assert "xl/worksheets/sheet1.xml" in refused.value.message
    assert "40 MB" in refused.value.message
    assert "save it again" in refused.value.message
    assert refused.value.field == "file"


def test_open_xlsx_refuses_the_bomb_before_openpyxl_reads_anything():
    with pytest.raises(SpreadsheetRefused):
        open_xlsx(io.BytesIO(bomb_xlsx(5)))


def test_shared_strings_of_a_bomb_are_refused_too():
    with pytest.raises(SpreadsheetRefused) as refused:
        xlsx_check(io.BytesIO(bomb_xlsx(5, part="xl/sharedStrings.xml")))
    assert "xl/sharedStrings.xml" in refused.value.message


def test_a_part_read_whole_is_refused_over_its_limit_even_when_it_compresses_normally(
    monkeypatch,
):
    monkeypatch.setattr(spreadsheets, "MAX_RATIO", 10_000)
    monkeypatch.setattr(spreadsheets, "MAX_WHOLE_PART", 2**20)
    with pytest.raises(SpreadsheetRefused) as refused:
        xlsx_check(io.BytesIO(bomb_xlsx(3, part="xl/styles.xml")))
    assert "xl/styles.xml" in refused.value.message


def test_the_total_declared_size_is_capped(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_RATIO", 10_000)
    monkeypatch.setattr(spreadsheets, "MAX_EXPANDED", 2 * 2**20)
    with pytest.raises(SpreadsheetRefused) as refused:
        xlsx_check(io.BytesIO(bomb_xlsx(3)))
    assert "split it" in refused.value.message


def test_a_real_workbook_and_a_file_that_is_no_zip_pass():
    xlsx_check(io.BytesIO(_plain_xlsx()))
    xlsx_check(io.BytesIO(b"a,b\n1,2\n"))
    book = open_xlsx(io.BytesIO(_plain_xlsx()))
    assert next(book.worksheets[0].iter_rows(values_only=True)) == ("楼栋", "房号", "建筑面积")


def test_the_row_and_cell_budgets_stop_reading_with_a_clear_message():
    rows = iter([("a", "b")] * 10)
    assert list(within_budget(iter([("a",)] * 5), max_rows=5, max_cells=5)) == [("a",)] * 5
    with pytest.raises(SpreadsheetRefused, match="more than 3 rows"):
        list(within_budget(rows, max_rows=3, max_cells=100))
    numbered = ((n, ("x",) * 50) for n in range(10))
    with pytest.raises(SpreadsheetRefused, match="more than 120 cells"):
        list(within_budget(numbered, max_rows=100, max_cells=120, numbered=True))
