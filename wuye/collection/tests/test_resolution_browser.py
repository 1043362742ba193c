"""In the browser: a collector records a hardship call, drafts a plan, prints the agreement
and uploads the signed scan; a supervisor approves it. Another raises a dispute that becomes
an engineering work order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import ContactLog, InstallmentPlan, WorkOrder
from wuye.testing import DEMO_PASSWORD

from .books import charge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(browser, live_server, user):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_a_hardship_call_becomes_an_approved_plan_and_a_dispute_a_work_order(
    browser, live_server, collector, supervisor, case, unit, owner, tmp_path
):
    charge(unit, owner, "2026-09", "300.00")
    charge(unit, owner, "2026-10", "300.00")
    url = f"{live_server.url}/collection/cases/{case.pk}/resolution/"
    context, page = login(browser, live_server, collector)
    try:
        # the collector records the call: real hardship
        page.goto(url)
        page.select_option("#id_reason", "hardship")
        page.fill("#id_said", "提醒两个月物业费未缴")
        page.fill("#id_response", "刚失业，想分期")
        page.click("[data-test=log-call]")
        page.wait_for_selector(".alert-success")
        assert ContactLog.objects.filter(case=case, reason="hardship").count() == 1
        # drafts a plan of three instalments
        first = (timezone.localdate() + timedelta(days=10)).isoformat()
        page.fill("#id_count", "3")
        page.fill("#id_first_due", first)
        page.click("[data-test=draft-plan]")
        page.wait_for_selector("[data-test=plan-status]")
        plan = InstallmentPlan.objects.get(case=case)
        assert "200.00" in page.content()
        # prints the agreement
        href = page.get_attribute("[data-test=print-agreement]", "href")
        pdf = page.request.get(f"{live_server.url}{href}")
        assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"
        # and uploads the scan the owner signed
        scan = tmp_path / "signed.pdf"
        scan.write_bytes(b"%PDF signed by the owner")
        page.set_input_files("#id_file", str(scan))
        page.click("[data-test=upload-signed]")
        page.wait_for_selector(".alert-success")
        plan.refresh_from_db()
        assert plan.signed_sha256
        # a collector has no approve button
        assert page.locator("[data-test=approve-plan]").count() == 0
        # another problem: the owner says a leak was never repaired
        page.goto(url)
        page.select_option("#id_category", "leak")
        page.fill("#id_description", "楼上漏水三个月没人修")
        page.click("[data-test=raise-dispute]")
        page.wait_for_selector(".alert-success")
        order = WorkOrder.objects.get(dispute__case=case)
        assert order.department == "engineering"
        page.goto(f"{live_server.url}/collection/work-orders/{order.pk}/")
        assert page.inner_text("[data-test=work-order-department]") == "工程部"
    finally:
        context.close()
    # the supervisor approves the plan
    context, page = login(browser, live_server, supervisor)
    try:
        page.goto(f"{live_server.url}/collection/plans/{plan.pk}/")
        page.click("[data-test=approve-plan]")
        page.wait_for_selector(".alert-success")
        assert page.inner_text("[data-test=plan-status]") == "履行中"
        plan.refresh_from_db()
        assert plan.status == "active"
    finally:
        context.close()
