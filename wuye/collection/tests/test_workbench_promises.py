"""Promises to pay as the run judges them: kept closes the follow-up even when later months
have fallen due meanwhile; broken creates a task and moves the case on, but never into a stage
the case's reason does not qualify for."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from wuye.collection.models import ArrearsCase, PromiseToPay, Task
from wuye.collection.services.cases import promise_record
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run

from .books import charge

pytestmark = pytest.mark.django_db
DUE = date(2026, 1, 28)


def run(day, estate):
    return dunning_run(as_of=day, estate_id=estate.pk)


def test_a_kept_promise_is_kept_though_the_next_month_fell_due_meanwhile(
    estate, unit, owner, collector
):
    policy_default(estate=estate)
    january = charge(unit, owner, "2026-01", "300.00", due=DUE)
    charge(unit, owner, "2026-02", "300.00", due=date(2026, 2, 28))
    day = DUE + timedelta(days=16)  # 2026-02-13: only January is overdue
    run(day, estate)
    case = ArrearsCase.objects.get(party=owner)
    follow_up = Task.objects.create(
        estate=estate, case=case, kind="follow_up", role="collector", due_on=day, stage_number=2
    )
    promise = promise_record(
        actor=collector, case=case, amount=Decimal("300"), due_on=date(2026, 3, 5), today=day
    )
    # February falls due and joins the case; then the owner pays January as promised
    run(date(2026, 3, 2), estate)
    january.outstanding = Decimal("0.00")
    january.status = "paid"
    january.save()
    run(date(2026, 3, 3), estate)
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    follow_up.refresh_from_db()
    assert follow_up.status == "done"  # the follow-up closes; February is chased on its own


def test_a_broken_promise_does_not_move_a_case_into_a_stage_its_reason_does_not_allow(
    estate, unit, owner, collector, supervisor
):
    from wuye.collection.services.cases import case_approve_stage

    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "300.00", due=DUE)
    day = DUE + timedelta(days=40)
    run(day, estate)
    case = ArrearsCase.objects.get(party=owner)
    assert case.stage_number == 3
    # a supervisor has approved stage 4 (legal), which is only for malicious non-payment
    case_approve_stage(actor=supervisor, case=case, stage_number=4, note="准备诉讼")
    case.refresh_from_db()
    promise_record(
        actor=collector, case=case, amount=Decimal("300"), due_on=day + timedelta(days=3), today=day
    )
    run(day + timedelta(days=4), estate)
    case.refresh_from_db()
    assert case.broken_promises == 1
    assert case.stage_number == 3  # the reason is not malicious: no legal stage
    assert Task.objects.filter(case=case, kind="follow_up", status="open").exists()


def test_the_broken_promise_task_reads_in_the_readers_language_with_the_amount_as_money(
    estate, unit, owner, collector, client
):
    from django.utils import translation
    from rest_framework.test import APIClient

    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "1500.00", due=DUE)
    day = DUE + timedelta(days=20)
    run(day, estate)
    case = ArrearsCase.objects.get(party=owner)
    promise_record(
        actor=collector, case=case, amount=Decimal("1500"), due_on=day + timedelta(days=3),
        today=day,
    )  # fmt: skip
    run(day + timedelta(days=4), estate)
    task = Task.objects.get(dedupe_key__endswith=":broken")
    assert "承诺" not in task.note  # nothing stored in one language
    with translation.override("en"):
        assert task.note_text == "Promise of 1,500.00 yuan by 2026-02-20 not kept"
    with translation.override("zh-hans"):
        assert task.note_text == "承诺 2026-02-20 前缴 1,500.00 元，未兑现"
    with translation.override("zh-hant"):
        assert "1,500.00" in task.note_text and "承諾" in task.note_text
    # the workbench and the API show it in the reader's language
    client.force_login(collector)
    page = client.get(f"/collection/tasks/{task.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Promise of 1,500.00 yuan by 2026-02-20 not kept" in page
    api = APIClient()
    api.force_authenticate(collector)
    [row] = [
        t
        for t in api.get("/api/v1/collection/tasks/?status=", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
        if t["id"] == task.pk
    ]
    assert row["note"] == "承诺 2026-02-20 前缴 1,500.00 元，未兑现"
