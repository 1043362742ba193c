"""In a real browser: a supervisor opens the collection dashboard, clicks the building with
the most arrears in its chart, and from the households behind it opens the owner."""

from datetime import date

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_dashboard_to_a_building_to_an_owner(
    browser_login, live_server, estate, households, bill, cashier, supervisor, shift_on
):
    from wuye.payments.services import payment_take

    # given November billed to three households, of which only B1 (2栋) paid
    bill("2026-11", date(2026, 11, 1))
    shift_on(date(2026, 11, 5))
    payment_take(
        actor=cashier,
        party=households["B1"][1],
        amount="200.00",
        channel="cash",
        today=date(2026, 11, 5),
    )
    page = browser_login(supervisor)

    # when the supervisor opens the dashboard of the estate
    page.goto(f"{live_server.url}/reports/?estate={estate.pk}&as_of=2026-11-30")
    assert page.locator("#month-rate").inner_text().count("33.33%") == 1
    # and clicks 1栋's bar in "arrears by building"
    page.locator("#chart-buildings a").first.click()
    page.wait_for_url("**/reports/drill/**")
    rows = page.locator("#households tbody tr")
    assert rows.count() == 2
    assert "1-1-101" in page.inner_text("#households") and "2-1-101" not in page.inner_text(
        "#households"
    )
    # then the owner of 1-1-102 is one click away
    page.get_by_role("link", name="李娜").click()
    page.wait_for_url(f"**/registry/parties/{households['A2'][1].pk}/")
    assert "李娜" in page.inner_text("h1")
