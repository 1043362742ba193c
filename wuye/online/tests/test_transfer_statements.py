"""Bank statements of the collection account: every credit naming a payment reference is
posted once (by its bank reference), the rest wait for staff with the reason; CSV and .xlsx
exports with whatever headers the bank uses, and MT940; a file in error posts nothing."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from wuye.audit.models import AuditEvent
from wuye.online import services
from wuye.online.models import TransferLine, TransferStatement
from wuye.online.statements import StatementRejected, read_statement
from wuye.payments.models import Payment
from wuye.registry.models import Party

pytestmark = pytest.mark.django_db


def icbc_csv(ref: str) -> bytes:
    """An online-banking export as Chinese banks give it: account details above the table,
    credit and debit columns, GBK."""
    return (
        "账号,6222020200112233001\r\n"
        "户名,华苑物业服务中心\r\n"
        "\r\n"
        "交易日期,交易流水号,摘要,贷方金额,借方金额,对方户名,对方账号\r\n"
        f"2026-03-09,B0309001,物业费 {ref[:4].lower()} {ref[4:]},250.60,,张伟,6217000011112222\r\n"
        "2026-03-09,B0309002,转账 1-1-302,1000.00,,李四,6217000033334444\r\n"
        "2026/03/10,B0310001,手续费,,5.00,,\r\n"
        f'2026年3月10日,B0310002,{ref},"1,200.00",,张伟,6217000011112222\r\n'
        '合计,,,"2,450.60",5.00,,\r\n'
    ).encode("gbk")


def test_a_statement_posts_the_credits_naming_a_reference_and_keeps_the_rest(
    finance, owner, charges, estate
):
    # given the bank's export of two days: two transfers naming the owner's reference, one
    # transfer without any, and a bank fee
    content = icbc_csv(owner.payment_ref)
    # when finance imports it
    statement, new = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="流水20260310.csv", content=content
    )
    # then the two are posted as the owner's transfers with receipts, the third waits for
    # staff, the fee is kept as money out; the totals line of the bank is no transaction
    assert new and (statement.first_day, statement.last_day) == (
        date(2026, 3, 9),
        date(2026, 3, 10),
    )
    lines = list(statement.lines.all())
    assert [(x.bank_ref, x.outcome) for x in lines] == [
        ("B0309001", "posted"),
        ("B0309002", "no_reference"),
        ("B0310001", "debit"),
        ("B0310002", "posted"),
    ]
    assert (statement.posted, statement.to_check) == (2, 1)
    paid = Payment.objects.filter(channel="transfer").order_by("external_ref")
    assert [(p.external_ref, p.amount, p.party_id) for p in paid] == [
        ("B0309001", Decimal("250.60"), owner.pk),
        ("B0310002", Decimal("1200.00"), owner.pk),
    ]
    assert all(p.receipt is not None and p.source == "bank" for p in paid)
    assert lines[0].payer_name == "张伟" and lines[2].amount == Decimal("-5.00")
    assert AuditEvent.objects.filter(action="import", summary__contains="2 posted").exists()
    # and importing the same file again posts nothing more and says so
    again, new = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="流水20260310.csv", content=content
    )
    assert (again.pk, new) == (statement.pk, False)
    assert Payment.objects.filter(channel="transfer").count() == 2


def test_a_transfer_posted_by_hand_or_in_an_overlapping_statement_is_not_posted_again(
    finance, owner, charges, estate
):
    # given a transfer staff already posted by hand from the bank's message
    by_hand = services.bank_transfer_post(
        actor=finance, estate=estate, memo=owner.payment_ref, amount="250.60", bank_ref="B0309001"
    )
    # when the day's statement arrives with it
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    # then that line is known, not posted twice
    line = statement.lines.get(bank_ref="B0309001")
    assert (line.outcome, line.payment_id) == ("already", by_hand.pk)
    assert Payment.objects.filter(external_ref="B0309001").count() == 1


def test_a_reference_of_another_estate_is_not_this_estates_money(
    finance, owner, charges, estate, other_estate
):
    stranger = Party.objects.create(estate=other_estate, name="外人")
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(stranger.payment_ref)
    )
    assert set(statement.lines.values_list("outcome", flat=True)) == {"no_reference", "debit"}
    assert not Payment.objects.exists()


def test_an_xlsx_export_with_one_signed_amount_and_a_direction(finance, owner, charges, estate):
    # given an .xlsx with 记账日期, 交易金额 and 借贷标志 (another bank's words)
    book = Workbook()
    sheet = book.active
    sheet.append(["招商银行 账户交易明细"])
    sheet.append(["记账日期", "流水号", "交易金额", "借贷标志", "附言", "付款人名称"])
    sheet.append([date(2026, 3, 9), "CMB001", 250.6, "贷", f"缴费 {owner.payment_ref}", "张伟"])
    sheet.append([date(2026, 3, 9), "CMB002", 30, "借", "电费", ""])
    out = io.BytesIO()
    book.save(out)
    # when it is imported
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="cmb.xlsx", content=out.getvalue()
    )
    # then the credit is posted and the debit kept as money out
    assert [(x.outcome, x.amount) for x in statement.lines.all()] == [
        ("posted", Decimal("250.60")),
        ("debit", Decimal("-30.00")),
    ]


MT940 = """:20:STMT20260310
:25:6222020200112233001/CNY
:28C:00001/001
:60F:C260308CNY100000,00
:61:2603090309C250,60NTRFNONREF//BOC0001
:86:{ref} 物业费
:61:2603090309D12,00NCHGNONREF//BOC0002
:86:手续费
:62F:C260309CNY100238,60
"""


def test_an_mt940_statement_is_read_too(finance, owner, charges, estate):
    content = MT940.format(ref=owner.payment_ref).encode()
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="boc.sta", content=content
    )
    assert [(x.bank_ref, x.outcome, x.amount) for x in statement.lines.all()] == [
        ("BOC0001", "posted", Decimal("250.60")),
        ("BOC0002", "debit", Decimal("-12.00")),
    ]


@pytest.mark.parametrize(
    "rows, error",
    [
        (
            "2026-13-40,B1,WY23456789,100.00,\r\n",
            "row 2, column 交易日期: not a real date: 2026-13-40",
        ),
        ("2026-03-09,B1,WY23456789,abc,\r\n", "row 2, column 贷方金额: 'abc' is not an amount"),
        (
            "2026-03-09,,WY23456789,100.00,\r\n",
            "row 2, column 流水号: the bank's reference is empty",
        ),
        (
            "2026-03-09,B1,WY23456789,100.00,50.00\r\n",
            "row 2, column 贷方金额: both a credit and a debit on one line",
        ),
        ("2026-03-09,B1,WY23456789,100.005,\r\n", "row 2, column 贷方金额: '100.005' is not"),
    ],
)
def test_a_line_in_error_refuses_the_file_naming_row_and_column(
    finance, owner, charges, estate, rows, error
):
    content = ("交易日期,流水号,摘要,贷方金额,借方金额\r\n" + rows).encode()
    with pytest.raises(StatementRejected) as caught:
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="bad.csv", content=content
        )
    assert str(caught.value.errors[0]).startswith(error)
    assert not TransferStatement.objects.exists() and not Payment.objects.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        ("日期,金额\r\n2026-03-09,1\r\n".encode(), "no table of transactions"),
        ("交易日期,摘要,贷方金额\r\n2026-03-09,x,1.00\r\n".encode(), "no column of the bank's"),
        (b":20:X\n:61:garbage\n", "not a readable MT940 statement"),
    ],
)
def test_a_file_that_is_no_statement_is_refused_with_why(content, message):
    with pytest.raises(StatementRejected, match=message):
        read_statement("x.csv", content)


def test_only_staff_who_take_payments_import_statements(make_staff, estate, owner):
    from wuye.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.transfer_statement_import(
            actor=make_staff("collector", estates=[estate]),
            estate=estate,
            file_name="s.csv",
            content=icbc_csv(owner.payment_ref),
        )
    assert not TransferLine.objects.exists()


# --- the page -------------------------------------------------------------------------------
def _upload(client, estate, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/pay/transfers/statements/?estate={estate.pk}",
        {"file": SimpleUploadedFile(name, content)},
    )


def test_finance_imports_the_statement_and_posts_the_line_without_a_reference_by_hand(
    client, finance, owner, charges, estate
):
    client.force_login(finance)
    # when finance uploads the day's export on the bank transfers page
    response = _upload(client, estate, "流水.csv", icbc_csv(owner.payment_ref))
    # then the statement's page lists each line with what became of it
    statement = TransferStatement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/pay/transfers/statements/{statement.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert page.count('data-outcome="posted"') == 2 and 'data-outcome="no_reference"' in page
    receipt = Payment.objects.get(external_ref="B0309001").receipt.code
    assert receipt in page
    # when finance follows "post it by hand" for the line without a reference, the form is
    # filled from the line; adding the owner's reference to the memo posts it
    link = page.split('data-outcome="no_reference"')[1].split('href="')[1].split('"')[0]
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert 'value="B0309002"' in form and 'value="1000.00"' in form
    posted = client.post(
        f"/pay/transfers/?estate={estate.pk}",
        {"memo": f"转账 1-1-302 {owner.payment_ref}", "amount": "1000.00", "bank_ref": "B0309002"},
    )
    assert posted.status_code == 302
    assert Payment.objects.get(external_ref="B0309002").party == owner
    # and the statements are listed on the transfers page
    listing = client.get(f"/pay/transfers/?estate={estate.pk}").content.decode()
    assert "流水.csv" in listing


def test_a_bad_statement_shows_every_error_on_the_page(client, finance, estate):
    client.force_login(finance)
    content = (
        "交易日期,流水号,摘要,贷方金额\r\n2026-02-30,B1,x,1.00\r\n2026-03-01,B2,y,zz\r\n"
    ).encode()
    page = _upload(client, estate, "bad.csv", content).content.decode()
    assert "2 lines cannot be read; nothing was posted" in page
    assert "row 2, column 交易日期: not a real date: 2026-02-30" in page
    assert "row 3, column 贷方金额: &#x27;zz&#x27; is not an amount" in page
    assert not TransferStatement.objects.exists()


def test_another_estates_statement_is_not_there(
    client, make_staff, finance, owner, estate, other_estate
):
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(f"/pay/transfers/statements/{statement.pk}/").status_code == 404
