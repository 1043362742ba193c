"""In the browser: preview a template with an owner's data, and send a campaign."""

from datetime import date
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_service_previews_a_template_and_sends_the_notices(
    browser_login, live_server, make_staff, estate, reachable_owner, open_policy
):
    from wuye.billing.models import Charge
    from wuye.fees.models import FeeItem
    from wuye.notifications.models import MessageTemplate

    # given an owner with a 2026-11 charge
    item = FeeItem.objects.create(
        estate=estate, code="PROPERTY", name="物业服务费", kind="property", basis="per_area_month"
    )
    Charge.objects.create(
        estate=estate,
        unit=reachable_owner.relations.get().unit,
        party=reachable_owner,
        fee_item=item,
        period="2026-11",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        amount=Decimal("268.50"),
        outstanding=Decimal("268.50"),
        bill_date=date(2026, 11, 1),
        due_date=date(2026, 11, 25),
    )
    page = browser_login(make_staff("customer_service", estates=[estate]))
    # when the friendly reminder is previewed with the owner's data
    template = MessageTemplate.objects.get(code="reminder_friendly", language="zh-hans")
    page.goto(f"{live_server.url}/notifications/templates/{template.pk}/")
    page.select_option("#id_party", str(reachable_owner.pk))
    page.fill("#id_amount", "268.50")
    page.click("#template-preview")
    # then the text reads with the owner's name, unit and amount
    result = page.locator("#preview-result")
    result.wait_for()
    assert "亲爱的张伟业主" in result.inner_text() and "268.50" in result.inner_text()
    # when the 2026-11 bill notices are sent to the estate
    page.goto(f"{live_server.url}/notifications/campaigns/")
    page.select_option("#id_estate", str(estate.pk))
    page.fill("#id_period", "2026-11")
    page.click("#campaign-send")
    # then the campaign page shows it done, with the WeChat notice counted
    status = page.locator("#campaign-status[data-status=done]")
    status.wait_for()
    assert "1 / 1" in status.inner_text() or "100%" in status.inner_text()
    assert page.locator("#campaign-counts tr[data-channel=wechat]").count() == 1
