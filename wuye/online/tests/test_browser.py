"""The bank statement in a real browser, in Chinese: finance uploads the day's export on the
bank transfers page, sees each line with its outcome, and posts the one without a payment
reference by hand from its own link."""

import pytest

from wuye.online.models import TransferStatement
from wuye.payments.models import Payment

from .test_transfer_statements import icbc_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_imports_a_statement_and_posts_the_unmatched_line_by_hand(
    browser_login, live_server, tmp_path, finance, owner, charges, estate
):
    statement_file = tmp_path / "流水20260310.csv"
    statement_file.write_bytes(icbc_csv(owner.payment_ref))
    page = browser_login(finance)
    # when finance uploads the export on the bank transfers page
    page.goto(f"{live_server.url}/pay/transfers/?estate={estate.pk}")
    assert page.locator("h2", has_text="导入银行流水").is_visible()
    page.set_input_files("input[name=file]", str(statement_file))
    page.click("form[enctype] button")
    # then the statement's page shows two posted lines with receipts, one to check, a fee
    page.wait_for_selector("tr[data-outcome]")
    assert page.locator("tr[data-outcome=posted]").count() == 2
    waiting = page.locator("tr[data-outcome=no_reference]")
    assert "无缴费编号" in waiting.inner_text()
    assert page.locator("tr[data-outcome=debit]").count() == 1
    # when finance follows "post it by hand" and adds the owner's reference to the memo
    waiting.locator("a", has_text="手工入账").click()
    page.wait_for_selector("#id_memo")
    assert page.input_value("#id_bank_ref") == "B0309002"
    assert page.input_value("#id_amount") == "1000.00"
    page.fill("#id_memo", f"{page.input_value('#id_memo')} {owner.payment_ref}")
    page.click("form[action^='/pay/transfers/'] button.btn-primary >> nth=-1")
    page.wait_for_selector(".alert")
    # then the transfer is the owner's payment, and the statement has nothing left to check
    assert Payment.objects.get(external_ref="HY/B0309002").party == owner
    assert TransferStatement.objects.get().to_check == 0
