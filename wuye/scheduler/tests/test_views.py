"""The jobs page: who sees it, what it shows, and "run now" for supervisors only."""

import pytest
from django_tasks_db.models import DBTaskResult

from wuye.audit.models import AuditEvent
from wuye.scheduler.models import JobRun
from wuye.scheduler.services import scheduler_tick

pytestmark = [pytest.mark.django_db, pytest.mark.urls("wuye.scheduler.tests.urls")]


@pytest.mark.parametrize("role", ["supervisor", "finance", "auditor"])
def test_the_page_lists_each_job_with_schedule_last_run_and_next_due(client, make_staff, role):
    # given the scheduler has ticked once
    scheduler_tick(beat_name="web-1:42")
    client.force_login(make_staff(role))
    # when staff open the page
    html = client.get("/jobs/").content.decode()
    # then every declared job is there, queued, with its schedule, and the scheduler is alive
    for name, schedule in [
        ("billing.assess_late_fees", "daily at 01:30"),
        ("notifications.dispatch_due", "every 5 minutes"),
        ("online.sweep_orders", "every minute"),
        ("audit.purge_idempotency_records", "daily at 03:00"),
    ]:
        row = html.split(f'data-job="{name}"')[1].split("</tr>")[0]
        assert schedule in row and 'data-state="enqueued"' in row
    assert "Assess late fees" in html and 'data-alive="true"' in html
    assert ("Run now" in html) is (role == "supervisor")


def test_the_page_says_when_no_scheduler_runs(client, make_staff):
    client.force_login(make_staff("finance"))
    html = client.get("/jobs/").content.decode()
    assert 'data-alive="false"' in html and "The scheduler has never run." in html
    assert "Never" in html


@pytest.mark.parametrize("role", ["cashier", "collector", "customer_service"])
def test_other_roles_do_not_see_the_page(client, make_staff, role):
    client.force_login(make_staff(role))
    assert client.get("/jobs/").status_code == 403


def test_a_supervisor_runs_a_job_now_once_and_it_is_audited(client, make_staff):
    boss = make_staff("supervisor")
    client.force_login(boss)
    # when the supervisor clicks "run now" (and, impatient, again)
    first = client.post("/jobs/billing.assess_late_fees/run/", follow=True).content.decode()
    second = client.post("/jobs/billing.assess_late_fees/run/", follow=True).content.decode()
    # then the job is queued once, by hand, for today, and the audit log says who
    run = JobRun.objects.get()
    assert (run.trigger, run.requested_by, run.state) == ("manual", boss, "enqueued")
    assert "Assess late fees: queued" in first and "already started by hand" in second
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "wuye.billing.tasks.assess_late_fees" and task.queue_name == "bulk"
    event = AuditEvent.objects.get(subject_type="scheduler.jobrun")
    assert (event.actor, event.subject_id, event.summary) == (
        boss,
        str(run.pk),
        "run now: billing.assess_late_fees",
    )


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_run_now_needs_the_permission(client, make_staff, role):
    client.force_login(make_staff(role))
    assert client.post("/jobs/online.sweep_orders/run/").status_code == 403
    assert not JobRun.objects.exists() and not DBTaskResult.objects.exists()


def test_run_now_is_post_only_and_names_an_existing_job(client, make_staff):
    client.force_login(make_staff("supervisor"))
    assert client.get("/jobs/online.sweep_orders/run/").status_code == 405
    html = client.post("/jobs/no.such_job/run/", follow=True).content.decode()
    assert "There is no scheduled job named no.such_job." in html
    assert not JobRun.objects.exists()


def test_run_now_checks_csrf(make_staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("supervisor"))
    assert client.post("/jobs/online.sweep_orders/run/").status_code == 403
    assert not JobRun.objects.exists()
