"""Receipts and the settled certificate as PDFs, read back with pdftotext."""

import shutil
import subprocess
from decimal import Decimal

import pytest

from wuye.core.errors import DomainError
from wuye.payments.services import receipt_print, settled_certificate

from .conftest import TODAY

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


def text_of(content: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.parametrize("paper", ["a5", "a4", "thermal80"])
def test_a_receipt_prints_in_chinese_with_capitals_and_reprints_are_copies(
    cashier, owner, unit, shift, property_item, make_charge, tmp_path, paper
):
    from wuye.payments.services import payment_take

    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    url = f"https://wuye.example.com/r/{payment.receipt.token}/"
    first = receipt_print(actor=cashier, receipt=payment.receipt, verify_url=url, paper=paper)
    text = text_of(first, tmp_path)
    assert first.startswith(b"%PDF") and len(first) < 200_000
    assert "收款收据" in text and "副本" not in text
    assert payment.receipt.code in text.replace(" ", "")
    assert "贰佰伍拾元陆角整" in text.replace(" ", "")
    assert "物业服务费" in text and "1-1-301" in text
    again = receipt_print(actor=cashier, receipt=payment.receipt, verify_url=url, paper=paper)
    assert "副本" in text_of(again, tmp_path)


def test_the_settled_certificate_is_refused_with_arrears(
    cashier, owner, unit, shift, property_item, make_charge, tmp_path
):
    jan = make_charge(property_item, "2026-01", "250.60")
    with pytest.raises(DomainError) as err:
        settled_certificate(actor=cashier, unit=unit, today=TODAY)
    assert err.value.code == "arrears" and "250.60" in err.value.message
    from wuye.payments.services import payment_take

    payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    jan.refresh_from_db()
    assert jan.outstanding == Decimal("0")
    text = text_of(settled_certificate(actor=cashier, unit=unit, today=TODAY), tmp_path)
    assert "物业费结清证明" in text.replace(" ", "") and "2026-01" in text


def _months(count: int) -> list[str]:
    return [f"{2024 + (m // 12)}-{m % 12 + 1:02d}" for m in range(count)]


@pytest.mark.parametrize("lines, pages", [(15, 1), (16, 2), (30, 2), (31, 3)])
def test_an_a5_receipt_keeps_15_lines_a_page_and_carries_the_total(
    cashier, owner, unit, shift, property_item, make_charge, tmp_path, lines, pages
):
    # given `lines` monthly charges of 1,000.10 paid in one go
    from wuye.payments.services import payment_take

    for period in _months(lines):
        make_charge(property_item, period, "1000.10")
    total = Decimal("1000.10") * lines
    payment = payment_take(
        actor=cashier, party=owner, unit=unit, amount=str(total), channel="cash", today=TODAY
    )
    assert len(payment.receipt.lines) == lines
    # when it is printed on A5
    url = f"https://wuye.example.com/r/{payment.receipt.token}/"
    content = receipt_print(actor=cashier, receipt=payment.receipt, verify_url=url, paper="a5")
    sheets = [p.replace(" ", "") for p in text_of(content, tmp_path).split("\f") if p.strip()]
    # then 15 lines a page, the running total carried from page to page
    assert len(sheets) == pages
    for number, sheet in enumerate(sheets, start=1):
        assert sheet.count("1,000.10") == min(15, lines - 15 * (number - 1))
        assert ("承上页" in sheet) == (number > 1)
        assert ("转下页" in sheet) == (number < pages)
        if pages > 1:
            assert f"第{number}页共{pages}页" in sheet
    if pages > 1:
        assert "转下页15,001.50" in sheets[0] and "承上页15,001.50" in sheets[1]
    # and the grand total, the cashier by name and the stamp box close the last page only
    assert f"¥{total:,.2f}" in sheets[-1] and "盖章" in sheets[-1]
    assert all("盖章" not in s and "¥" not in s for s in sheets[:-1])


def test_the_receipt_names_the_cashier_in_chinese_order(
    make_staff, estate, owner, unit, property_item, make_charge, tmp_path
):
    from wuye.payments.services import payment_take, shift_open

    cashier = make_staff("cashier", estates=[estate])
    cashier.first_name, cashier.last_name = "娜", "李"
    cashier.save()
    shift_open(actor=cashier, estate=estate, float_amount="0.00", today=TODAY)
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    url = f"https://wuye.example.com/r/{payment.receipt.token}/"
    text = text_of(receipt_print(actor=cashier, receipt=payment.receipt, verify_url=url), tmp_path)
    assert "李娜" in text and "娜 李" not in text and "张伟" in text
