"""The collector's workbench through the pages: my tasks in priority order with units, notes
and last contacts; the call panel with its script; logging a call with a reason, a promise and
evidence in a few clicks; the reason decides the next step; malicious needs a supervisor."""

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wuye.collection.models import (
    ArrearsCase,
    CallScript,
    ContactLog,
    PromiseToPay,
    Task,
)
from wuye.collection.services.contacts import contacts_verify
from wuye.registry.models import Party, UnitParty
from wuye.registry.services import owner_note_add

from .books import charge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def task_for(case, *, kind="call", due=None, assignee=None):
    return Task.objects.create(
        estate_id=case.estate_id,
        case=case,
        kind=kind,
        role="collector",
        assignee=assignee,
        due_on=due or timezone.localdate(),
        stage_number=case.stage_number,
    )


def other_owner(unit, name, amount, oldest, **fields):
    party = Party.objects.create(estate=unit.estate, name=name, mobile="13900000000")
    UnitParty.objects.create(
        estate=unit.estate, unit=unit, party=party, start_date=date(2025, 6, 1)
    )
    case = ArrearsCase.objects.create(
        estate=unit.estate,
        party=party,
        opened_on=timezone.localdate(),
        amount=amount,
        oldest_due_date=oldest,
        **fields,
    )
    return case


def test_my_tasks_come_in_priority_order_with_what_i_need_beside_them(
    client, collector, make_staff, case, unit, owner, estate, other_estate
):
    today = timezone.localdate()
    # given three cases: mine (500 元, old), a bigger one with a broken promise, and a small new one
    big = other_owner(unit, "李娜", 4000, today - timedelta(days=120), broken_promises=1)
    small = other_owner(unit, "王芳", 100, today - timedelta(days=5))
    first = task_for(big, due=today - timedelta(days=2))  # overdue
    second = task_for(case)
    third = task_for(small)
    # a task of another collector and one due tomorrow are not mine today
    someone = make_staff("collector", estates=[estate])
    task_for(case, assignee=someone)
    task_for(case, due=today + timedelta(days=1))
    owner_note_add(
        actor=make_staff("customer_service", estates=[estate]),
        party=owner,
        category="hardship",
        text="业主最近住院，家属代为联系",
    )
    ContactLog.objects.create(
        estate=estate,
        seq=1,
        party=owner,
        case=case,
        at=timezone.now() - timedelta(days=3),
        channel="sms",
        outcome="sent",
        prev_hash="0" * 64,
        hash="x",
    )
    client.force_login(collector)
    page = client.get("/collection/workbench/").content.decode()
    # then they come by score: the big one with the broken promise, mine, the small one
    order = [page.index(f'data-task="{t.pk}"') for t in (first, second, third)]
    assert order == sorted(order)
    assert page.count('data-test="task-row"') == 3
    assert "2 due today, 1 overdue" in page
    assert "one point per 100 yuan owed" in page  # the score is explained on the page
    assert "1-1-301" in page  # the owner's unit
    assert "业主最近住院" in page  # the note customer service shared
    assert "never contacted" in page and "SMS" in page  # last contacts
    # a supervisor of another estate sees none of it
    stranger = make_staff("supervisor", estates=[other_estate])
    client.force_login(stranger)
    assert 'data-test="task-row"' not in client.get("/collection/workbench/").content.decode()


def test_the_call_panel_shows_the_script_for_the_case_beside_the_form(
    client, collector, case, unit, owner, estate
):
    charge(unit, owner, "2026-09", "250.00")
    charge(unit, owner, "2026-10", "250.00")
    task = task_for(case)
    client.force_login(collector)
    page = client.get(f"/collection/tasks/{task.pk}/").content.decode()
    assert 'data-test="call-script"' in page and "Empathy first" in page
    assert "2026-09, 2026-10" in page  # the facts: the periods
    assert 'data-test="log-form"' in page
    assert "138****5678" in page  # the phone, masked until revealed
    # the estate's own script for the reason wins over the built-in one
    case.reason = "hardship"
    case.save()
    CallScript.objects.create(
        estate=estate,
        reason="hardship",
        title="困难业主话术",
        empathy="先倾听，不催全额",
        facts="欠费金额和期间",
        purpose="物业费用于保洁、安保",
        options="分期协议",
    )
    page = client.get(f"/collection/tasks/{task.pk}/").content.decode()
    assert "困难业主话术" in page and "先倾听，不催全额" in page
    assert 'data-test="next-step"' in page and "installment plan" in page


def test_a_call_with_forgot_a_promise_and_a_recording_is_logged_in_one_go(
    client, collector, case, unit, owner, open_policy
):
    charge(unit, owner, "2026-09", "500.00")
    task = task_for(case)
    recording = b"RIFF fake recording"
    due = timezone.localdate() + timedelta(days=7)
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "task": task.pk,
            "channel": "call",
            "outcome": "reached",
            "reason": "forgot",
            "said": "提醒9月物业费未缴",
            "response": "忘了，下周交",
            "promise_amount": "500",
            "promise_due": due.isoformat(),
            "recording": SimpleUploadedFile("call.wav", recording),
            "done": "1",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/collection/tasks/{task.pk}/"
    entry = ContactLog.objects.get(case=case)
    assert (entry.channel, entry.outcome, entry.reason) == ("call", "promised", "forgot")
    assert entry.staff == collector and entry.response == "忘了，下周交"
    assert entry.attachments.get().sha256 == hashlib.sha256(recording).hexdigest()
    assert contacts_verify() == []
    promise = PromiseToPay.objects.get(case=case)
    assert promise.amount == 500 and promise.due_on == due and promise.contact == entry
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == "done" and task.done_by == collector
    assert case.status == "promised" and case.reason == "forgot"
    page = client.get(response["Location"]).content.decode()
    assert "Promise recorded" in page
    assert due.strftime("%Y-%m-%d") in page.split('data-test="promises"')[1].split("</ul>")[0]


def test_a_promise_in_the_past_is_refused_and_nothing_is_written(
    client, collector, case, open_policy
):
    task = task_for(case)
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "task": task.pk,
            "channel": "call",
            "outcome": "reached",
            "reason": "forgot",
            "said": "提醒",
            "promise_amount": "100",
            "promise_due": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "done": "1",
        },
    )
    assert response.status_code == 400
    assert "the promised date is in the past" in response.content.decode()
    assert "提醒" in response.content.decode()  # what was typed is kept
    assert not ContactLog.objects.exists() and not PromiseToPay.objects.exists()
    task.refresh_from_db()
    assert task.status == "open"


def test_malicious_needs_a_supervisor_on_the_call_panel_and_the_reason_form(
    client, collector, supervisor, case, open_policy
):
    client.force_login(collector)
    panel = client.get(f"/collection/cases/{case.pk}/contact/").content.decode()
    assert 'data-test="malicious-hint"' in panel and 'id="id_reason_malicious"' not in panel
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"channel": "call", "outcome": "refused", "reason": "malicious", "said": "拒绝缴费"},
    )
    assert response.status_code == 403
    assert "only a supervisor may mark non-payment as malicious" in response.content.decode()
    assert not ContactLog.objects.exists()
    form = client.get(f"/collection/cases/{case.pk}/reason/").content.decode()
    assert 'data-test="malicious-needs-supervisor"' in form
    response = client.post(f"/collection/cases/{case.pk}/reason/", {"reason": "malicious"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.reason == ""
    # a collector may record any other reason
    client.post(f"/collection/cases/{case.pk}/reason/", {"reason": "dispute", "note": "漏水"})
    case.refresh_from_db()
    assert (case.reason, case.status) == ("dispute", "disputed")
    # the supervisor may mark it malicious
    client.force_login(supervisor)
    response = client.post(
        f"/collection/cases/{case.pk}/reason/", {"reason": "malicious", "note": "有能力不缴"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.reason == "malicious"


def test_the_reason_decides_the_next_step_offered(client, collector, case, open_policy):
    client.force_login(collector)
    client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"channel": "visit", "outcome": "reached", "reason": "dispute", "said": "楼上漏水未修"},
    )
    page = client.get(f"/collection/cases/{case.pk}/contact/").content.decode()
    step = page.split('data-test="next-step"')[1].split("</div>")[0]
    assert "Raise a service dispute" in step
    assert f"/collection/cases/{case.pk}/resolution/" in step


def test_no_answer_with_a_call_back_leaves_a_new_task(client, collector, case, open_policy):
    task = task_for(case)
    back = timezone.localdate() + timedelta(days=2)
    client.force_login(collector)
    client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "task": task.pk,
            "channel": "call",
            "outcome": "no_answer",
            "call_back_on": back.isoformat(),
            "done": "1",
        },
    )
    task.refresh_from_db()
    assert task.status == "done"
    new = Task.objects.get(case=case, status="open")
    assert (new.kind, new.due_on, new.assignee) == ("call", back, collector)


def test_a_call_in_quiet_hours_is_recorded_as_not_made_and_the_task_stays_open(
    client, collector, case, estate
):
    from datetime import time

    from wuye.notifications.models import ContactPolicy

    # quiet all day long
    ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(23, 59, 59), weekly_cap=0
    )
    task = task_for(case)
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"task": task.pk, "channel": "call", "outcome": "reached", "reason": "forgot", "done": "1"},
        follow=True,
    )
    entry = ContactLog.objects.get()
    assert entry.outcome == "suppressed"
    assert "Not made" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"


def test_another_estates_case_and_task_are_404(client, make_staff, other_estate, case):
    task = task_for(case)
    client.force_login(make_staff("collector", estates=[other_estate]))
    for url in [
        f"/collection/tasks/{task.pk}/",
        f"/collection/cases/{case.pk}/contact/",
        f"/collection/cases/{case.pk}/reason/",
        f"/collection/cases/{case.pk}/escalate/",
    ]:
        assert client.get(url).status_code == 404, url


def test_the_case_page_carries_the_workbench_buttons(client, collector, make_staff, case, estate):
    client.force_login(collector)
    page = client.get(f"/collection/cases/{case.pk}/").content.decode()
    actions = page.split('data-test="case-actions"')[1].split("</div>\n")[0]
    assert f"/collection/cases/{case.pk}/contact/" in actions
    assert f"/collection/cases/{case.pk}/reason/" in actions
    assert f"/collection/cases/{case.pk}/escalate/" in actions
    # the auditor reads the case but has none of them
    client.force_login(make_staff("auditor", estates=[estate]))
    page = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert f"/collection/cases/{case.pk}/contact/" not in page


def test_a_role_without_pii_sees_the_owner_masked_on_every_workbench_page(
    client, collector, make_staff, case, estate
):
    from django.contrib.auth.models import Permission

    item = task_for(case)
    urls = [
        f"/collection/tasks/{item.pk}/",
        f"/collection/cases/{case.pk}/contact/",
        f"/collection/cases/{case.pk}/reason/",
        f"/collection/cases/{case.pk}/escalate/",
    ]
    client.force_login(collector)
    for url in urls:
        assert "张伟" in client.get(url).content.decode(), url
    # the auditor reads cases and tasks but may not see names; give one escalation rights too
    auditor = make_staff("auditor", estates=[estate])
    auditor.user_permissions.add(Permission.objects.get(codename="add_escalation"))
    client.force_login(auditor)
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        assert "张伟" not in page.content.decode() and "张*" in page.content.decode(), url


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("1e3", "1e3 is not an amount"),  # not a promise of 1,000.00
        ("NaN", "NaN is not an amount"),  # was a 500
        ("Infinity", "Infinity is not an amount"),  # was a 500
        ("100.005", "an amount has at most 2 decimal places (fen)"),  # not rounded to 100.01
        ("0", "the amount must be more than 0"),
    ],
)
def test_a_promised_amount_is_read_like_every_other_amount(
    client, collector, case, open_policy, typed, says
):
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "channel": "call",
            "outcome": "reached",
            "said": "提醒",
            "promise_amount": typed,
            "promise_due": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not ContactLog.objects.exists() and not PromiseToPay.objects.exists()


def test_a_promised_amount_may_have_thousands_separators(client, collector, case, open_policy):
    client.force_login(collector)
    due = timezone.localdate() + timedelta(days=3)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"channel": "call", "outcome": "reached", "promise_amount": "1,234.50",
         "promise_due": due.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    assert PromiseToPay.objects.get(case=case).amount == Decimal("1234.50")


@pytest.mark.parametrize("typed", ["abc", "1²", "9" * 30, "-1"])
def test_a_task_id_that_is_no_id_is_not_found(client, collector, case, open_policy, typed):
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"task": typed, "channel": "call", "outcome": "reached", "said": "提醒"},
    )
    assert response.status_code == 404
    assert not ContactLog.objects.exists()


def test_an_impossible_promise_date_is_a_form_error(client, collector, case, open_policy):
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"channel": "call", "outcome": "reached", "promise_amount": "100",
         "promise_due": "2026-02-30"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "2026-02-30 is not a date" in response.content.decode()
    assert not ContactLog.objects.exists()
