"""In the browser: a collector opens the workbench, opens a call task, records "forgot" with a
promise to pay, and the promise shows on the case page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import ContactLog, PromiseToPay, Task
from wuye.testing import DEMO_PASSWORD

from .books import charge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def test_a_collector_calls_from_the_workbench_and_the_promise_shows_on_the_case(
    browser, live_server, collector, case, unit, owner, open_policy
):
    charge(unit, owner, "2026-09", "250.00")
    charge(unit, owner, "2026-10", "250.00")
    task = Task.objects.create(
        estate=case.estate,
        case=case,
        kind="call",
        role="collector",
        assignee=collector,
        due_on=timezone.localdate(),
        stage_number=2,
    )
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    context, page = login(browser, live_server, collector)
    try:
        # the workbench lists the task; the collector opens it
        page.goto(f"{live_server.url}/collection/workbench/")
        assert "优先级得分" in page.inner_text("[data-test=priority-help]")
        page.click(f"[data-task='{task.pk}'] [data-test=open-task]")
        page.wait_for_selector("[data-test=call-script]")
        assert "先共情" in page.inner_text("[data-test=call-script]")
        # calls, and records "forgot" with a promise
        page.click("label[for=id_reason_forgot]")
        page.fill("#id_said", "提醒9、10月物业费未缴")
        page.fill("#id_response", "忘了，这周内交清")
        page.fill("#id_promise_amount", "500")
        page.fill("#id_promise_due", due)
        page.click("[data-test=log-contact]")
        page.wait_for_selector(".alert-success")
        assert "已登记承诺" in page.content()
        entry = ContactLog.objects.get(case=case)
        assert (entry.reason, entry.outcome, entry.staff) == ("forgot", "promised", collector)
        assert PromiseToPay.objects.get(case=case).contact == entry
        task.refresh_from_db()
        assert task.status == "done"
        # the promise shows on the case page
        page.click("[data-test=case-link]")
        page.wait_for_selector("[data-test=promises]")
        assert page.url.endswith(f"/collection/cases/{case.pk}/")
        promises = page.inner_text("[data-test=promises]")
        assert "500.00" in promises and due in promises and "待处理" in promises
    finally:
        context.close()
