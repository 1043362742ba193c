"""A cashier's shift in a real browser: open the shift, find the owner by unit number, tick the
arrears, take the cash, print the receipt, and close the shift with the cash box 10 yuan short."""

import pytest

from wuye.payments.models import CashierShift, Payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_window_from_search_to_printed_receipt_and_shift_close(
    browser_login, live_server, make_staff, estate, owner, unit, property_item, make_charge
):
    # given a unit with two months of arrears and a cashier of the estate
    make_charge(property_item, "2026-01", "250.60")
    make_charge(property_item, "2026-02", "250.60")
    cashier = make_staff("cashier", estates=[estate])
    page = browser_login(cashier)

    # when the cashier opens the shift with a 100.00 float
    page.goto(f"{live_server.url}/payments/")
    page.fill("#id_float_amount", "100.00")
    page.click("#shift-open")
    page.wait_for_selector("#shift-close")

    # and searches the unit number (a single match opens the unit)
    page.fill("#window-q", "1-1-301")
    page.press("#window-q", "Enter")
    page.wait_for_selector(".charge-pick")
    assert page.inner_text("#arrears-total") == "501.20"

    # and ticks the January charge only: the amount follows the ticks
    page.locator(".charge-pick").first.check()
    assert page.input_value("#id_amount") == "250.60"
    page.select_option("#id_method", "cash")
    page.click("#take-payment")

    # then the payment page offers the receipt, a real PDF
    page.wait_for_selector("#receipt-pdf")
    payment = Payment.objects.get()
    assert payment.amount == payment.allocated
    href = page.get_attribute("#receipt-pdf", "href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # when the cashier closes the shift having counted 340.60 (float 100 + 250.60 - 10)
    page.goto(f"{live_server.url}/payments/")
    page.click("#shift-close")
    page.fill("#id_counted_cash", "340.60")
    page.click("#shift-close-confirm")
    # the difference is shown and must be confirmed, with the reason
    page.wait_for_selector("#shift-variance")
    page.check("#id_confirm_variance")
    page.fill("#id_note", "找零多找10元")
    page.click("#shift-close-confirm")

    # then the variance shows and the shift is locked
    page.wait_for_selector("#cash-variance")
    assert page.inner_text("#cash-variance") == "-10.00"
    assert CashierShift.objects.get().status == CashierShift.Status.CLOSED
