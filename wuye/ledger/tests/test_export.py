import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.services import EXPORT_HEADERS, Line, vouchers_export


@pytest.fixture
def two_vouchers(estate, other_estate, post):
    post(estate, "1250.40", day=date(2026, 3, 1), memo="2026-03 物业费", party_id=1)
    post(
        estate,
        day=date(2026, 3, 15),
        memo="收款 微信 张伟",
        lines=[
            Line(chart.CLEARING_WECHAT, debit=Decimal("1300.00")),
            Line(chart.RECEIVABLE, credit=Decimal("1250.40"), party_id=1),
            Line(chart.PREPAYMENTS, credit=Decimal("49.60"), party_id=1),
        ],
    )
    post(estate, "10.00", day=date(2026, 4, 1), memo="next month")
    post(other_estate, "777.00", day=date(2026, 3, 2), memo="other estate")
    return estate


EXPECTED = [
    EXPORT_HEADERS,
    [date(2026, 3, 1), 1, "2026-03 物业费", "1122", "应收账款", 1250.4, 0],
    [date(2026, 3, 1), 1, "2026-03 物业费", "6001", "主营业务收入-物业服务", 0, 1250.4],
    [date(2026, 3, 15), 2, "收款 微信 张伟", "1012.01", "其他货币资金-微信支付", 1300, 0],
    [date(2026, 3, 15), 2, "收款 微信 张伟", "1122", "应收账款", 0, 1250.4],
    [date(2026, 3, 15), 2, "收款 微信 张伟", "2203", "预收账款", 0, 49.6],
]


@pytest.mark.django_db
def test_the_xlsx_voucher_export_has_one_row_per_posting_of_the_estate_and_period(
    two_vouchers, make_staff
):
    # given
    finance = make_staff("finance", estates=[two_vouchers])
    # when
    content, rows = vouchers_export(
        actor=finance, estate=two_vouchers, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)
    )
    # then
    sheet = load_workbook(io.BytesIO(content)).active
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    got = [[c.date() if hasattr(c, "date") else c for c in r] for r in got]
    assert rows == 5 and got == EXPECTED
    event = AuditEvent.objects.get(action="export")
    assert event.actor == finance and event.estate_id == two_vouchers.pk
    assert "2026-03-01..2026-03-31" in event.summary and "5 rows" in event.summary


@pytest.mark.django_db
def test_the_csv_voucher_export_is_utf8_with_bom_and_exact_amounts(two_vouchers):
    content, _ = vouchers_export(
        actor=None,
        estate=two_vouchers,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
        fmt="csv",
    )
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == EXPORT_HEADERS
    assert rows[1] == ["2026-03-01", "1", "2026-03 物业费", "1122", "应收账款", "1250.40", "0.00"]
    assert rows[5] == ["2026-03-15", "2", "收款 微信 张伟", "2203", "预收账款", "0.00", "49.60"]
    assert len(rows) == 6


@pytest.mark.django_db
def test_an_export_of_a_backwards_period_is_refused(estate):
    with pytest.raises(DomainError, match="starts after it ends"):
        vouchers_export(
            actor=None, estate=estate, date_from=date(2026, 3, 31), date_to=date(2026, 3, 1)
        )


@pytest.mark.django_db
def test_the_ledger_export_command_writes_the_file_and_audits_it(two_vouchers, tmp_path):
    # when
    target = tmp_path / "hy-march.xlsx"
    out = io.StringIO()
    call_command(
        "ledger-export",
        "--estate",
        "HY",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "-o",
        str(target),
        stdout=out,
    )
    # then
    sheet = load_workbook(target).active
    assert sheet.max_row == 6
    assert "5 postings of HY" in out.getvalue()
    assert AuditEvent.objects.get(action="export").source == "cli"
    # and CSV by the file's extension
    call_command(
        "ledger-export",
        "--estate=HY",
        "--from=2026-03-01",
        "--to=2026-03-31",
        f"-o={tmp_path / 'hy.csv'}",
        stdout=out,
    )
    assert (tmp_path / "hy.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.django_db
@pytest.mark.parametrize("memo", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_a_memo_that_looks_like_a_formula_is_exported_as_text(estate, post, memo):
    # given a voucher whose description a spreadsheet would run as a formula
    post(estate, "10.00", day=date(2026, 3, 1), memo=memo)
    span = {"actor": None, "estate": estate, "date_from": date(2026, 3, 1)}
    span["date_to"] = date(2026, 3, 31)
    # then the .xlsx holds it as text, the .csv with a leading apostrophe
    content, _ = vouchers_export(**span)
    cell = load_workbook(io.BytesIO(content)).active.cell(row=2, column=3)
    assert cell.data_type == "s" and cell.value == memo
    content, _ = vouchers_export(**span, fmt="csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][2] == "'" + memo and rows[1][5] == "10.00"
