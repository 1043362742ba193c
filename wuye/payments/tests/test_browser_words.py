"""The receipt, the statement and the window read in Chinese in a real browser, simplified and
traditional (issue 13 §4): the words a user sees, and in 繁體 no simplified leftovers."""

import re

import pytest

from wuye.payments.models import Payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "zh-hans": {
        "window": ["收费窗口", "实收现金", "找零", "确认收款", "欠费"],
        "receipt": ["收据", "找零：49.40"],
        "statement": ["对账单", "余额"],
    },
    "zh-hant": {
        "window": ["收費櫃檯", "實收現金", "找零", "確認收款", "欠費"],
        "receipt": ["收據", "找零：49.40"],
        "statement": ["對帳單", "餘額"],
    },
}
# Characters written only in simplified Chinese: none may be left on a zh-hant page once the
# data (names the office typed in simplified) is taken out.
SIMPLIFIED_ONLY = "对账费实预单据额录应结销减缴项务议择称场单户编码员扫签证"


def _text(page) -> str:
    return page.inner_text("body")


def _without_data(text: str, data: list[str]) -> str:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, "")
    return text


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_window_receipt_and_statement_in_chinese(
    browser_login,
    live_server,
    make_staff,
    estate,
    owner,
    unit,
    property_item,
    make_charge,
    language,
):
    from wuye.payments.services import shift_open

    # given a cashier with an open shift and a unit owing 250.60
    charge = make_charge(property_item, "2026-01", "250.60")
    cashier = make_staff("cashier", estates=[estate])
    cashier.last_name = "李娜"
    cashier.save()
    shift_open(actor=cashier, estate=estate, float_amount="0.00")
    page = browser_login(cashier)
    if language == "zh-hant":
        with page.expect_navigation():
            page.select_option("#language-form select", "zh-hant")
    assert page.locator("html").get_attribute("lang") == language
    data = [
        estate.name,
        owner.name,
        unit.number,
        property_item.name,
        charge.label,
        "李娜",
        charge.description,
        "物业服务有限公司",
        "wuye",
    ]
    seen = {}

    # when the cashier opens the unit at the window, ticks the charge and takes 300 in cash
    page.goto(f"{live_server.url}/payments/?unit={unit.pk}")
    page.locator(".charge-pick").first.check()
    page.fill("#id_tendered", "300")
    assert page.inner_text("#change-due") == "49.40"
    seen["window"] = _text(page)
    page.click("#take-payment")

    # then the payment page (the receipt) says so, with the change due
    page.wait_for_selector("#receipt-pdf")
    seen["receipt"] = _text(page)
    payment = Payment.objects.get()
    data.append(payment.receipt.code)

    # and the owner's statement reads as a statement of account
    page.goto(f"{live_server.url}/billing/statements/{owner.pk}/")
    seen["statement"] = _text(page)
    assert "250.60" in seen["statement"]

    for where, words in WORDS[language].items():
        for word in words:
            assert word in seen[where], (where, word)
    if language == "zh-hant":
        for where, text in seen.items():
            left = set(_without_data(text, data)) & set(SIMPLIFIED_ONLY)
            assert not left, (where, sorted(left), text)
    else:
        assert "對帳單" not in seen["statement"]
    assert not re.search(r"\b(cash|open|closed|posted)\b", " ".join(seen.values()))
