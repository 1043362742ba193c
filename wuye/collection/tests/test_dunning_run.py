"""The dunning run over weeks (the day is passed explicitly: a frozen clock), idempotency,
holds, netting of prepayments, closing, promises and automatic escalation."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from wuye.billing.models import PrepaymentMovement
from wuye.collection.models import ArrearsCase, Escalation, HoldKind, PromiseToPay, Task
from wuye.collection.services.cases import hold_place, promise_record
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run
from wuye.notifications.models import ContactPolicy, Message
from wuye.notifications.services import message_send

from .books import charge

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 1, 28)


@pytest.fixture
def arrears(estate, unit, owner):
    policy_default(estate=estate)
    return charge(unit, owner, "2026-01", "300.00", due=DUE)


def run(day, estate):
    return dunning_run(as_of=day, estate_id=estate.pk)


def the_case(owner):
    return ArrearsCase.objects.get(party=owner)


def test_stages_over_weeks(estate, owner, arrears):
    # day 1: stage 1, a friendly reminder
    r = run(DUE + timedelta(days=1), estate)
    case = the_case(owner)
    assert case.stage_number == 1 and case.amount == Decimal("300.00")
    assert r.counts["by_stage"] == {"1": 1}
    assert Message.objects.filter(party=owner, template_code="reminder_friendly").count() == 1
    # day 4: nothing new (stage 1 repeats every 7 days)
    assert run(DUE + timedelta(days=4), estate).counts["emitted"] == 0
    # day 8: the reminder again
    assert run(DUE + timedelta(days=8), estate).counts["by_stage"] == {"1": 1}
    # day 15: stage 2, a firmer message and a call task
    run(DUE + timedelta(days=15), estate)
    case = the_case(owner)
    assert case.stage_number == 2
    assert Task.objects.filter(case=case, kind="call", stage_number=2).count() == 1
    assert Message.objects.filter(party=owner, template_code="reminder_firm").exists()
    # day 31: stage 3, a formal demand by letter and a task to serve it
    run(DUE + timedelta(days=31), estate)
    case = the_case(owner)
    assert case.stage_number == 3
    demand = Message.objects.get(party=owner, purpose="formal_demand")
    assert demand.channel == "letter"
    assert Task.objects.filter(case=case, kind="formal_demand").exists()
    # day 120: stage 4 (legal) needs a supervisor's approval and a malicious reason
    run(DUE + timedelta(days=120), estate)
    assert the_case(owner).stage_number == 3
    assert [c.charge_id for c in case.case_charges.all()] == [arrears.pk]


def test_a_second_run_the_same_day_emits_nothing(estate, owner, arrears):
    day = DUE + timedelta(days=20)
    first = run(day, estate)
    messages, tasks = Message.objects.count(), Task.objects.count()
    assert first.counts["emitted"] == 2  # stage 2: a message and a call task
    second = run(day, estate)
    assert second.counts["emitted"] == 0
    assert (Message.objects.count(), Task.objects.count()) == (messages, tasks)
    assert ArrearsCase.objects.count() == 1


@pytest.mark.parametrize("kind", HoldKind.values)
def test_every_kind_of_hold_stops_the_chase(estate, owner, arrears, make_staff, kind):
    collector = make_staff("collector", estates=[estate])
    day = DUE + timedelta(days=1)
    run(day, estate)
    case = the_case(owner)
    hold_place(
        actor=collector,
        case=case,
        kind=kind,
        reason="业主住院" if kind == "manual" else "",
        expires_on=day + timedelta(days=60),
        today=day,
    )
    later = run(DUE + timedelta(days=40), estate)
    assert later.counts["emitted"] == 0 and later.counts["held"] == 1
    assert the_case(owner).stage_number == 1  # held: the stage does not move either
    # the hold expires: the chase resumes
    resumed = run(day + timedelta(days=61), estate)
    assert resumed.counts["emitted"] == 2 and the_case(owner).stage_number == 3


def test_a_party_whose_prepayment_covers_the_arrears_is_not_chased(estate, owner, arrears):
    PrepaymentMovement.objects.create(
        estate=estate,
        party=owner,
        kind="topup",
        amount=Decimal("300.00"),
        date=DUE,
        idempotency_key="test-topup",
    )
    r = run(DUE + timedelta(days=20), estate)
    assert r.counts["emitted"] == 0 and r.counts["covered"] == 1
    assert not ArrearsCase.objects.exists() and not Message.objects.exists()


def test_a_partial_prepayment_nets_oldest_first(estate, unit, owner, arrears):
    charge(unit, owner, "2026-02", "300.00", due=date(2026, 2, 28))
    PrepaymentMovement.objects.create(
        estate=estate,
        party=owner,
        kind="topup",
        amount=Decimal("300.00"),
        date=DUE,
        idempotency_key="test-topup",
    )
    run(date(2026, 3, 5), estate)
    case = the_case(owner)
    # January is covered: the debt is February's, 5 days old (stage 1, not stage 2)
    assert case.amount == Decimal("300.00") and case.oldest_due_date == date(2026, 2, 28)
    assert case.stage_number == 1


def test_the_case_closes_only_when_every_charge_is_settled(estate, unit, owner, arrears):
    february = charge(unit, owner, "2026-02", "300.00", due=date(2026, 2, 28))
    run(date(2026, 3, 5), estate)
    case = the_case(owner)
    assert case.case_charges.count() == 2
    arrears.outstanding = Decimal("0.00")
    arrears.status = "paid"
    arrears.save()
    run(date(2026, 3, 6), estate)
    case.refresh_from_db()
    assert case.status == "open" and case.amount == Decimal("300.00")
    february.outstanding = Decimal("0.00")
    february.status = "paid"
    february.save()
    r = run(date(2026, 3, 7), estate)
    case.refresh_from_db()
    assert case.status == "closed" and r.counts["closed"] == 1


@pytest.fixture
def held_tasks(settings):
    """Messages wait in the outbox: the test sends them at the time it chooses."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def test_dunning_messages_honour_quiet_hours_through_the_outbox(estate, owner, arrears, held_tasks):
    ContactPolicy.objects.create(estate=estate, quiet_start=time(21, 0), quiet_end=time(8, 0))
    owner.consents = {"sms": True}
    owner.save()
    run(DUE + timedelta(days=1), estate)
    message = Message.objects.get(party=owner)
    night = datetime(2026, 1, 29, 22, 0, tzinfo=SH)
    message = message_send(message_id=message.pk, now=night)
    assert message.status == "suppressed" and message.suppressed_reason == "quiet_hours"
    assert message.not_before == datetime(2026, 1, 30, 8, 0, tzinfo=SH)


def test_dunning_messages_honour_the_weekly_cap(estate, owner, arrears, held_tasks):
    ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(0, 0), weekly_cap=1
    )
    owner.consents = {"sms": True}
    owner.save()
    noon = datetime(2026, 1, 29, 12, 0, tzinfo=SH)
    run(DUE + timedelta(days=1), estate)
    first = Message.objects.get(party=owner)
    assert message_send(message_id=first.pk, now=noon).status in ("sent", "delivered")
    run(DUE + timedelta(days=8), estate)  # the repeat, inside the same week
    second = Message.objects.exclude(pk=first.pk).get(party=owner)
    second = message_send(message_id=second.pk, now=noon + timedelta(hours=1))
    assert second.status == "suppressed" and second.suppressed_reason == "weekly_cap"


def test_a_kept_promise_closes_the_follow_up(estate, owner, arrears, make_staff):
    collector = make_staff("collector", estates=[estate])
    day = DUE + timedelta(days=16)
    run(day, estate)
    case = the_case(owner)
    promise = promise_record(
        actor=collector, case=case, amount=Decimal("300"), due_on=day + timedelta(days=5), today=day
    )
    arrears.outstanding = Decimal("0.00")
    arrears.status = "paid"
    arrears.save()
    run(day + timedelta(days=3), estate)
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    assert not Task.objects.filter(case=case, status="open").exists()


def test_a_broken_promise_creates_a_task_and_moves_the_case_on(estate, owner, arrears, make_staff):
    collector = make_staff("collector", estates=[estate])
    day = DUE + timedelta(days=16)
    run(day, estate)
    case = the_case(owner)
    assert case.stage_number == 2
    promise = promise_record(
        actor=collector, case=case, amount=Decimal("300"), due_on=day + timedelta(days=3), today=day
    )
    quiet = run(day + timedelta(days=2), estate)
    assert quiet.counts["emitted"] == 0  # the promise holds the case
    broken = run(day + timedelta(days=4), estate)
    promise.refresh_from_db()
    case.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN
    assert case.broken_promises == 1 and case.stage_number == 3
    assert Task.objects.filter(case=case, kind="follow_up").exists()
    assert broken.counts["by_stage"] == {"3": 2}  # the demand and its call


def test_a_case_without_progress_escalates_by_itself(estate, owner, arrears):
    policy = policy_default(estate=estate)
    policy.escalate_after_days = 10
    policy.save()
    run(DUE + timedelta(days=1), estate)
    assert not Escalation.objects.exists()
    run(DUE + timedelta(days=12), estate)
    escalation = Escalation.objects.get()
    assert escalation.kind == "automatic" and escalation.case == the_case(owner)
    run(DUE + timedelta(days=13), estate)
    assert Escalation.objects.count() == 1
