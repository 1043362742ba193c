"""Staff are named on receipts, the daily report and the shift pages, never by their login."""

import shutil

import pytest
from django.urls import reverse

from wuye.payments.selectors import daily_report
from wuye.payments.services import payment_take, receipt_print

from .conftest import TODAY
from .test_documents import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(cashier):
    cashier.last_name = "李娜"
    cashier.save()
    return cashier


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_receipt_names_the_cashier_not_the_login(
    named, owner, unit, shift, property_item, make_charge, tmp_path
):
    make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=named, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    text = text_of(receipt_print(actor=named, receipt=payment.receipt, verify_url="x"), tmp_path)
    assert "收款人李娜" in text.replace(" ", "") and named.username not in text


def test_the_daily_report_and_the_shift_pages_name_the_cashier(
    client, named, owner, unit, shift, property_item, make_charge, finance
):
    make_charge(property_item, "2026-01", "250.60")
    payment_take(actor=named, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY)
    report = daily_report(estate_id=unit.estate_id, business_date=TODAY)
    assert list(report["by_cashier"]) == ["李娜"] and report["shifts"][0]["cashier"] == "李娜"
    client.force_login(finance)
    for url in (reverse("payments:shift_list"), reverse("payments:shift_detail", args=[shift.pk])):
        page = client.get(url).content.decode()
        assert "李娜" in page and named.username not in page
