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
