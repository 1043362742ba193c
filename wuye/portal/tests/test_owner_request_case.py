"""(issue 14 §10) The owners' portal requests open or update the owner's arrears case:
hardship becomes the case's reason with a call-back task and a short pause; a dispute opens
the case if there was none, so the dispute's hold is on it and the next run sends nothing."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import ArrearsCase, ContactLog, Dispute, Hold, Task
from wuye.collection.services.contacts import contacts_verify
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run
from wuye.collection.tests.books import charge
from wuye.notifications.models import Message
from wuye.portal.services import request_raise

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def test_a_hardship_request_opens_the_case_with_a_call_back_and_a_pause(
    client, make_staff, estate, unit, owner
):
    collector = make_staff("collector", estates=[estate])
    policy_default(estate=estate)
    today = timezone.localdate()
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    assert not ArrearsCase.objects.exists()
    item = request_raise(party=owner, kind="hardship", text="失业了，想分期缴纳")
    case = ArrearsCase.objects.get(party=owner)
    assert (case.reason, case.status, case.amount) == ("hardship", "hardship", 300)
    assert case.case_charges.count() == 1
    entry = ContactLog.objects.get(case=case)
    assert entry.channel == "app" and entry.staff is None and "失业了" in entry.said
    assert contacts_verify() == []
    hold = Hold.objects.get(source=f"portal.ownerrequest:{item.pk}")
    assert hold.kind == "manual" and hold.expires_on == today + timedelta(days=14)
    task = Task.objects.get(case=case)
    assert (task.kind, task.due_on, task.status) == ("call", today, "open")
    # the collector sees it on the workbench, with the plan as next step
    client.force_login(collector)
    assert f'data-task="{task.pk}"' in client.get("/collection/workbench/").content.decode()
    panel = client.get(f"/collection/tasks/{task.pk}/").content.decode()
    assert "installment plan" in panel.split('data-test="next-step"')[1]
    # the run keeps the case and sends the owner nothing while the pause lasts
    dunning_run(as_of=today, estate_id=estate.pk)
    assert ArrearsCase.objects.filter(party=owner).count() == 1
    assert not Message.objects.filter(party=owner).exists()


def test_a_dispute_request_without_a_case_opens_one_and_holds_it(estate, unit, owner):
    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    item = request_raise(party=owner, kind="dispute", text="电梯坏了一个月没人修")
    case = ArrearsCase.objects.get(party=owner)
    dispute = Dispute.objects.get(portal_request_id=item.pk)
    assert dispute.case == case
    assert (case.reason, case.status) == ("dispute", "disputed")
    assert Hold.objects.filter(case=case, kind="dispute", released_at__isnull=True).exists()
    dunning_run(as_of=timezone.localdate(), estate_id=estate.pk)
    assert not Message.objects.filter(party=owner).exists()


def test_a_request_of_an_owner_who_owes_nothing_overdue_opens_no_case(estate, unit, owner):
    charge(unit, owner, "2099-01", "300.00", due=date(2099, 1, 28))
    request_raise(party=owner, kind="hardship", text="想了解分期政策")
    assert not ArrearsCase.objects.exists()


def test_a_hardship_request_does_not_overrule_a_supervisors_malicious(estate, unit, owner):
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    case = ArrearsCase.objects.create(
        estate=estate,
        party=owner,
        opened_on=timezone.localdate(),
        amount=300,
        reason="malicious",
        oldest_due_date=date(2026, 1, 28),
    )
    request_raise(party=owner, kind="hardship", text="突然说困难，想分期")
    case.refresh_from_db()
    assert (case.reason, case.status) == ("malicious", "open")
    assert Task.objects.filter(case=case, kind="call").exists()  # a person looks at it
