"""Bank statements of the collection account: every credit naming a payment reference is
posted once (by its bank reference), the rest wait for staff with the reason; CSV and .xlsx
exports with whatever headers the bank uses, and MT940; a file in error posts nothing."""

import gzip
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
        ("HY/B0309001", Decimal("250.60"), owner.pk),
        ("HY/B0310002", Decimal("1200.00"), owner.pk),
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
    assert Payment.objects.filter(external_ref="HY/B0309001").count() == 1


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
    receipt = Payment.objects.get(external_ref="HY/B0309001").receipt.code
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
    assert Payment.objects.get(external_ref="HY/B0309002").party == owner
    # and the statement no longer counts it as waiting: it was posted by hand
    statement.refresh_from_db()
    assert statement.to_check == 0
    assert statement.lines.get(bank_ref="B0309002").outcome == "by_hand"
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


# --- what banks' files really hold ----------------------------------------------------------
def _csv(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("gbk")


def test_an_mt940_reversal_is_money_out_and_a_line_needs_the_banks_own_reference():
    # a credit reversed the same day (RC): never an owner's payment
    content = (
        ":20:S1\n:25:1/CNY\n:28C:1/1\n:60F:C260308CNY0,00\n"
        ":61:2603090309RC250,00NTRFWY23456789//BOC9\n:86:WY23456789 物业费 冲正\n"
        ":61:2603090309C250,00NTRFWY23456789//BOC8\n:86:WY23456789 物业费\n"
        ":62F:C260309CNY0,00\n"
    ).encode()
    rows = read_statement("s.sta", content)
    assert [(r.bank_ref, r.amount) for r in rows] == [
        ("BOC9", Decimal("-250.00")),
        ("BOC8", Decimal("250.00")),
    ]
    # the payer's own reference (often just the WY code, the same every month) is no key
    no_bank_ref = content.replace(b"//BOC8", b"")
    with pytest.raises(StatementRejected) as caught:
        read_statement("s.sta", no_bank_ref)
    assert "no bank reference" in str(caught.value.errors[0])


@pytest.mark.parametrize(
    "header, line, amount",
    [
        (
            "交易日期,流水号,交易金额,收/支,摘要",
            "2026-03-09,B1,100.00,支,退款 WY23456789",
            "-100.00",
        ),
        ("交易日期,流水号,交易金额,借贷标识,摘要", "2026-03-09,B1,100.00,借,退款", "-100.00"),
        ("交易日期,流水号,交易金额,借贷标志,摘要", "2026-03-09,B1,-100.00,贷,红字冲正", "-100.00"),
        ("交易日期,流水号,交易金额,借贷标志,摘要", "2026-03-09,B1,100.00,贷,WY23456789", "100.00"),
        (
            "交易日期,流水号,交易金额,借贷标志,摘要",
            "2026-03-09,B1,-500.00,借,退款 WY23456789",
            "-500.00",
        ),
        (
            "交易日期,流水号,贷方发生额（收入）,借方发生额（支出）,摘要",
            "2026-03-09,B1,,7.50,费",
            "-7.50",
        ),
        ("交易日期,流水号,贷方金额,摘要", '2026-03-09,B1,"￥1,234.50元",x', "1234.50"),
    ],
)
def test_money_in_and_money_out_are_told_apart_whatever_the_bank_writes(header, line, amount):
    (row,) = read_statement("s.csv", _csv(f"{header}\n{line}\n"))
    assert row.amount == Decimal(amount)


def test_unsigned_amounts_without_a_direction_are_refused():
    content = _csv("交易日期,流水号,交易金额,摘要\n2026-03-09,B1,100.00,x\n2026-03-09,B2,5.00,y\n")
    with pytest.raises(StatementRejected, match="no 借/贷 column"):
        read_statement("s.csv", content)


def test_the_better_column_wins_and_every_memo_column_is_read():
    # 凭证号 comes before 交易流水号, 摘要 only says 转账 and the owner wrote in 用途
    content = _csv(
        "序号,凭证号,交易日期,交易流水号,摘要,用途,贷方金额\n"
        "1,V01,2026-03-09,TX0001,转账,WY23456789 物业费,250.60\n"
        "合计,,,,,,250.60\n"
    )
    (row,) = read_statement("s.csv", content)
    assert (row.bank_ref, row.memo) == ("TX0001", "转账 WY23456789 物业费")


def test_a_tab_separated_export_with_the_account_above_the_table():
    content = _csv(
        "账号:\t6222020200112233001\n户名:\t华苑物业\n\n"
        "交易日期\t交易流水号\t摘要\t贷方金额\n2026-03-09\tB1\tWY23456789\t250.60\n"
    )
    (row,) = read_statement("s.csv", content)
    assert (row.bank_ref, row.amount) == ("B1", Decimal("250.60"))


def test_excel_numbers_for_dates_and_computed_amounts():
    book = Workbook()
    sheet = book.active
    sheet.append(["交易日期", "流水号", "贷方金额", "摘要"])
    sheet.append([20260309, "B1", 0.1 + 0.2, "x"])
    out = io.BytesIO()
    book.save(out)
    (row,) = read_statement("s.xlsx", out.getvalue())
    assert (row.booked_on, row.amount) == (date(2026, 3, 9), Decimal("0.30"))


@pytest.mark.parametrize(
    "content",
    [
        ("交易日期,流水号,摘要,贷方金额\n2026-03-09,B1," + "x" * 200_000 + ",1.00\n").encode(),
        b"PK\x03\x04garbage that is no zip",
    ],
)
def test_a_file_the_readers_choke_on_is_refused_not_a_crash(content):
    with pytest.raises(StatementRejected):
        read_statement("s.xlsx" if content.startswith(b"PK") else "s.csv", content)


def test_two_estates_with_the_same_short_bank_reference_each_post_their_own(
    finance, owner, charges, estate, other_estate, make_staff
):
    # given the same 凭证号 in both estates' statements (different banks, different accounts)
    other_finance = make_staff("finance", estates=[other_estate])
    stranger = Party.objects.create(estate=other_estate, name="王五")
    mine = _csv(f"交易日期,凭证号,摘要,贷方金额\n2026-03-09,0001,{owner.payment_ref},250.60\n")
    theirs = _csv(f"交易日期,凭证号,摘要,贷方金额\n2026-03-09,0001,{stranger.payment_ref},99.00\n")
    first, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="a.csv", content=mine
    )
    second, _ = services.transfer_statement_import(
        actor=other_finance, estate=other_estate, file_name="b.csv", content=theirs
    )
    # then each is posted in its estate, neither sees the other's payment
    assert first.lines.get().outcome == second.lines.get().outcome == "posted"
    assert second.lines.get().payment.party == stranger
    assert sorted(Payment.objects.values_list("external_ref", flat=True)) == ["HY/0001", "LJ/0001"]


def test_an_import_cut_short_is_finished_by_importing_the_file_again(
    finance, owner, charges, estate
):
    # given an import that stopped after its first lines (the process was killed)
    content = icbc_csv(owner.payment_ref)
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=content
    )
    cut = statement.lines.filter(line_no__gte=8)
    payment_ids = list(cut.exclude(payment=None).values_list("payment_id", flat=True))
    cut.delete()
    assert payment_ids  # the last line was a posted transfer
    # when the same file is imported again
    again, new = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=content
    )
    # then the missing lines are recorded, the transfer already posted is known, not posted twice
    assert (again.pk, new) == (statement.pk, False)
    assert again.lines.count() == 4 and again.lines.get(line_no=8).outcome == "already"
    assert Payment.objects.filter(channel="transfer").count() == 2


def test_a_long_statement_is_posted_by_the_worker_and_its_page_shows_how_far(
    client, finance, owner, charges, estate, monkeypatch, django_capture_on_commit_callbacks
):
    # given statements of more than a few lines go to the background worker
    from django_tasks_db.models import DBTaskResult

    from wuye.online.services import bank
    from wuye.online.tasks import post_statement

    monkeypatch.setattr(bank, "INLINE_LINES", 2)
    client.force_login(finance)
    # when finance uploads a four-line statement
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, estate, "long.csv", icbc_csv(owner.payment_ref))
    statement = TransferStatement.objects.get()
    # then nothing is posted in the request; the worker has the job and the page says so
    assert statement.lines_done == 0 and not Payment.objects.exists()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "wuye.online.tasks.post_statement"
    assert queued.args_kwargs["args"] == [statement.pk]
    page = client.get(response["Location"]).content.decode()
    assert 'id="statement-progress" data-done="0" data-total="4"' in page
    assert 'hx-trigger="every 2s"' in page
    # when the worker runs it
    assert post_statement.call(statement.pk) == {"posted": 2, "to_check": 1}
    # then the page is complete and stops polling
    page = client.get(response["Location"]).content.decode()
    assert "statement-progress" not in page and "hx-trigger" not in page
    assert page.count('data-outcome="posted"') == 2


def test_a_statement_is_stored_compressed_and_read_back_as_a_stream(
    client, finance, estate, monkeypatch, django_capture_on_commit_callbacks
):
    # given a month's export of the bank: the same memo and payer on line after line
    from wuye.core.stored_files import file_unpack
    from wuye.online.services import bank
    from wuye.online.tasks import post_statement

    header = "交易日期,交易流水号,摘要,贷方金额,借方金额,对方户名,对方账号\r\n"
    line = "2026-03-09,B{:07d},代扣 物业服务中心 水电周转金 三月,,5.00,华苑物业,62170000111\r\n"
    raw = (header + "".join(line.format(n) for n in range(1, 601))).encode("gbk")
    monkeypatch.setattr(bank, "INLINE_LINES", 10)  # the worker posts it
    client.force_login(finance)
    # when finance uploads it
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, estate, "month.csv", raw)
    statement = TransferStatement.objects.get()
    stored = bytes(statement.content)
    # then the database keeps it gzip-compressed, a small part of the file, byte for byte
    assert stored[:2] == b"\x1f\x8b" and len(stored) * 10 < len(raw)
    assert gzip.decompress(stored) == raw
    # and read back as a stream it gives the very lines of the file
    assert read_statement("month.csv", file_unpack(statement.content)) == read_statement(
        "month.csv", raw
    )
    # which the worker records, every one
    post_statement.call(statement.pk)
    lines = statement.lines.order_by("line_no")
    assert lines.count() == statement.lines_total == 600
    assert (lines.first().bank_ref, lines.last().bank_ref) == ("B0000001", "B0000600")
    assert {x.outcome for x in lines} == {"debit"}


def test_a_statement_stored_before_compression_is_still_read(finance, owner, charges, estate):
    # given a statement imported before files were compressed, and not finished
    from wuye.online.services import bank

    statement, _new = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="old.csv", content=icbc_csv(owner.payment_ref)
    )
    statement.lines.all().delete()
    TransferStatement.objects.filter(pk=statement.pk).update(content=icbc_csv(owner.payment_ref))
    # when the worker finishes it
    bank.transfer_statement_finish(statement_id=statement.pk)
    # then its lines are all there again
    assert statement.lines.count() == 4


def test_the_command_line_imports_a_statement_whatever_its_length(
    finance, owner, charges, estate, tmp_path, monkeypatch
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from wuye.online.services import bank

    monkeypatch.setattr(bank, "INLINE_LINES", 2)  # no worker needed on the command line
    good = tmp_path / "s.csv"
    good.write_bytes(icbc_csv(owner.payment_ref))
    out = StringIO()
    call_command("transfer-statement", str(good), estate="HY", user=finance.username, stdout=out)
    assert out.getvalue().strip() == f"{good}: 4 lines, 2 posted, 1 to check"
    again = StringIO()
    call_command("transfer-statement", str(good), estate="HY", user=finance.username, stdout=again)
    assert again.getvalue().strip().endswith("(imported before; nothing posted again)")
    # a file in error prints each error where it is and posts nothing
    bad = tmp_path / "bad.csv"
    bad.write_bytes("交易日期,流水号,摘要,贷方金额\r\n2026-02-30,B9,x,1.00\r\n".encode())
    err = StringIO()
    with pytest.raises(CommandError, match="1 lines cannot be read; nothing was posted"):
        call_command("transfer-statement", str(bad), estate="HY", user=finance.username, stderr=err)
    assert err.getvalue().strip() == f"{bad}:2:交易日期: not a real date: 2026-02-30"


# --- the API --------------------------------------------------------------------------------
def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_statement_through_the_api(finance, owner, charges, estate, make_staff, other_estate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(content, name="s.csv"):
        return _api(finance).post(
            "/api/v1/online/statements/",
            {"estate": estate.pk, "file": SimpleUploadedFile(name, content)},
            format="multipart",
        )

    # when a bank connector posts the day's file
    created = upload(icbc_csv(owner.payment_ref))
    # then it is imported: each line with its outcome, the receipts of the posted ones
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["lines_total"], body["posted"], body["to_check"]) == (4, 2, 1)
    first = body["lines"][0]
    assert (first["bank_ref"], first["outcome"], first["amount"]) == (
        "B0309001",
        "posted",
        "250.60",
    )
    assert first["receipt"].startswith("HY-")
    # and the same file again is 200 with the same statement, nothing posted twice
    again = upload(icbc_csv(owner.payment_ref))
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Payment.objects.filter(channel="transfer").count() == 2
    # a bad file is 400 with every error where it is
    bad = upload("交易日期,流水号,摘要,贷方金额\r\n2026-02-30,B9,x,1.00\r\n".encode())
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"row": 2, "column": "交易日期", "message": "not a real date: 2026-02-30"}
    ]
    # reading: the list and one statement; another estate's finance sees neither
    listed = _api(finance).get("/api/v1/online/statements/").json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]
    one = _api(finance).get(f"/api/v1/online/statements/{body['id']}/").json()
    assert [x["outcome"] for x in one["lines"]] == ["posted", "no_reference", "debit", "posted"]
    stranger = make_staff("finance", estates=[other_estate])
    assert _api(stranger).get(f"/api/v1/online/statements/{body['id']}/").status_code == 404
    assert _api(stranger).get("/api/v1/online/statements/").json()["results"] == []
    # a collector may not import one
    collector = make_staff("collector", estates=[estate])
    refused = _api(collector).post(
        "/api/v1/online/statements/",
        {"estate": estate.pk, "file": SimpleUploadedFile("s.csv", b"x")},
        format="multipart",
    )
    assert refused.status_code == 403


# --- what a second review found -------------------------------------------------------------
@pytest.mark.parametrize(
    "rows, error",
    [
        (
            "2026-03-09,B1,x,1.00\n2026-03-09,B1,y,2.00\n",
            "row 3, column 流水号: the bank's reference B1 is on row 2 too",
        ),
        ("2026-03-09,2.02603E+18,x,1.00\n", "row 2, column 流水号: 2.02603E+18: the reference"),
        (
            "2026-03-09,B1,x,1" + "0" * 30 + "\n",
            "row 2, column 贷方金额: 1" + "0" * 30 + " is more",
        ),
        (
            "2026-03-09,B" + "9" * 60 + ",x,1.00\n",
            "row 2, column 流水号: the bank's reference is longer",
        ),
        (",B1,累计欠费补缴 WY23456789,1.00\n", "row 2, column 交易日期: not a date"),
    ],
)
def test_lines_that_would_be_lost_or_crash_are_errors(rows, error):
    with pytest.raises(StatementRejected) as caught:
        read_statement("s.csv", _csv("交易日期,流水号,摘要,贷方金额\n" + rows))
    assert str(caught.value.errors[0]).startswith(error)


def test_a_csv_whose_memo_holds_swift_tags_is_still_a_csv():
    content = _csv("交易日期,流水号,摘要,贷方金额\n2026-03-09,B1,ref :20: and :61:,1.00\n")
    (row,) = read_statement("s.csv", content)
    assert row.memo == "ref :20: and :61:"


def test_a_date_far_ahead_is_a_mistyped_year(finance, owner, estate):
    content = _csv(f"交易日期,流水号,摘要,贷方金额\n2062-03-09,B1,{owner.payment_ref},1.00\n")
    with pytest.raises(StatementRejected) as caught:
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="s.csv", content=content
        )
    assert str(caught.value.errors[0]) == "row 2: booked on 2062-03-09, after today"


def test_a_reference_typed_in_lower_case_with_spaces_is_the_same_transfer(
    finance, owner, charges, estate
):
    services.bank_transfer_post(
        actor=finance, estate=estate, memo=owner.payment_ref, amount="250.60", bank_ref="b0309 001"
    )
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    assert statement.lines.get(bank_ref="B0309001").outcome == "already"
    assert Payment.objects.filter(channel="transfer", amount="250.60").count() == 1


def test_a_voided_transfer_is_not_taken_for_posted(finance, supervisor, owner, charges, estate):
    # given a transfer posted to the owner by hand, then voided (it was someone else's)
    from wuye.payments.services import reversal_approve, reversal_request

    wrong = services.bank_transfer_post(
        actor=finance, estate=estate, memo=owner.payment_ref, amount="250.60", bank_ref="B0309001"
    )
    reversal = reversal_request(actor=finance, payment=wrong, kind="void", reason="wrong owner")
    reversal_approve(actor=supervisor, reversal=reversal)
    # when the statement brings that bank reference
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    # then the line waits for staff, saying so, and counts as to check
    line = statement.lines.get(bank_ref="B0309001")
    assert line.outcome == "refused" and "voided" in line.detail
    assert statement.to_check == 2


def test_a_cashier_may_not_import_a_statement(client, make_staff, estate, owner):
    cashier = make_staff("cashier", estates=[estate])
    client.force_login(cashier)
    page = client.get(f"/pay/transfers/?estate={estate.pk}").content.decode()
    assert "/pay/transfers/statements/" not in page  # no upload form
    response = _upload(client, estate, "s.csv", icbc_csv(owner.payment_ref))
    assert response.status_code == 403 and not TransferStatement.objects.exists()


def test_a_long_statement_whose_importer_lost_the_right_to_post_stops_and_says_so(
    client, finance, owner, charges, estate, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from wuye.core.errors import PermissionDenied
    from wuye.online.services import bank
    from wuye.online.tasks import post_statement

    monkeypatch.setattr(bank, "INLINE_LINES", 2)
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    # when the importer leaves the company before the worker gets to it
    finance.is_active = False
    finance.save()
    with pytest.raises(PermissionDenied):
        post_statement.call(statement.pk)
    # then nothing is posted or recorded as refused; after a while the page says it stopped
    assert statement.lines_done == 0 and not Payment.objects.exists()
    TransferStatement.objects.filter(pk=statement.pk).update(
        uploaded_at=timezone.now() - timedelta(minutes=5)
    )
    reader = make_reader(estate)
    client.force_login(reader)
    page = client.get(f"/pay/transfers/statements/{statement.pk}/").content.decode()
    assert 'id="statement-stalled"' in page and "hx-trigger" not in page


def make_reader(estate):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from wuye.registry.models import StaffProfile

    user = get_user_model().objects.create_user("reader", password="x" * 12)
    user.groups.add(Group.objects.get(name="supervisor"))
    StaffProfile.objects.create(user=user).estates.set([estate])
    return user


def test_money_the_bank_received_is_recorded_beyond_the_prepayment_cap_and_flagged(
    finance, owner, charges, estate
):
    # given an estate that caps prepayments, and an owner who transfers far more than owed
    from wuye.payments.services import cashier_settings_update, prepayment_balance

    cashier_settings_update(actor=finance, estate=estate, prepayment_cap_months=1)
    # when the statement brings the 1,200.00 transfer (501.20 owed)
    statement, _ = services.transfer_statement_import(
        actor=finance, estate=estate, file_name="s.csv", content=icbc_csv(owner.payment_ref)
    )
    # then it is posted in full (the money is in the bank), and the line says to refund
    line = statement.lines.get(bank_ref="B0310002")
    assert line.outcome == "posted" and line.payment.amount == Decimal("1200.00")
    assert prepayment_balance(owner.pk) > 0
    assert "over the estate's cap" in line.detail


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    client, finance, owner, estate, monkeypatch
):
    from wuye.online.services import bank

    assert bank.MAX_FILE_BYTES == 100 * 2**20
    monkeypatch.setattr(bank, "MAX_FILE_BYTES", 2**20)
    big = icbc_csv(owner.payment_ref) + b"," * 2**20
    client.force_login(finance)
    page = _upload(client, estate, "s.csv", big).content.decode()
    assert "the file is larger than 1 MB: split the statement" in page
    refused = _api(finance).post(
        "/api/v1/online/statements/",
        {"estate": estate.pk, "file": _file("s.csv", big)},
        format="multipart",
    )
    assert refused.status_code == 400 and "larger than 1 MB" in refused.json()["detail"]
    assert not TransferStatement.objects.exists()


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
