"""Installment plans: the schedule drafted on a case, the agreement printed and signed, the
supervisor's approval holding the case, and a missed instalment reopening it."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from wuye.collection.models import CaseStatus, Hold, InstallmentPlan, Task
from wuye.collection.services import plans
from wuye.collection.services.cases import active_holds
from wuye.core.errors import DomainError

from .books import charge, pay
from .test_demand_pdf import pdf_text


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owed(unit, owner):
    return [charge(unit, owner, "2026-09", "300.00"), charge(unit, owner, "2026-10", "300.00")]


def approved_plan(collector, supervisor, case, *, first_due):
    plan = plans.plan_draft(
        actor=collector, case=case, kind="equal", count=3, first_due=first_due, grace_days=5
    )
    plans.plan_sign(
        actor=collector,
        plan=plan,
        content=b"%PDF signed by the owner",
        name="signed.pdf",
        signed_on=timezone.localdate(),
    )
    return plans.plan_approve(actor=supervisor, plan=plan)


def test_a_drafted_plan_covers_the_overdue_charges_in_equal_instalments(
    collector, case, owed, tmp_path
):
    first = timezone.localdate() + timedelta(days=10)
    plan = plans.plan_draft(actor=collector, case=case, kind="equal", count=3, first_due=first)
    assert plan.number.startswith("FQ-HY-") and plan.total == D("600.00")
    assert [(i.number, i.amount) for i in plan.instalments.all()] == [
        (1, D("200.00")),
        (2, D("200.00")),
        (3, D("200.00")),
    ]
    assert plan.instalments.first().due_on == first
    # the agreement for signature prints the parties, the debt and the schedule
    text = pdf_text(plans.plan_agreement_pdf(plan), tmp_path)
    assert plan.number in text and "张伟" in text and "600.00" in text and "第3期" in text


def test_a_custom_schedule_must_add_up(collector, case, owed):
    today = timezone.localdate()
    with pytest.raises(DomainError, match="add up to 500.00, the plan covers 600.00"):
        plans.plan_draft(
            actor=collector,
            case=case,
            kind="custom",
            schedule=[(today + timedelta(days=5), "200.00"), (today + timedelta(days=40), "300")],
        )


def test_approval_needs_the_signed_agreement_and_a_supervisor(collector, supervisor, case, owed):
    first = timezone.localdate() + timedelta(days=10)
    plan = plans.plan_draft(actor=collector, case=case, kind="equal", count=2, first_due=first)
    with pytest.raises(DomainError, match="missing permission"):
        plans.plan_approve(actor=collector, plan=plan)
    with pytest.raises(DomainError, match="signed by the owner"):
        plans.plan_approve(actor=supervisor, plan=plan)
    plans.plan_sign(
        actor=collector, plan=plan, content=b"scan", name="s.jpg", signed_on=timezone.localdate()
    )
    plan.refresh_from_db()
    import hashlib

    assert plan.signed_sha256 == hashlib.sha256(b"scan").hexdigest()
    plan = plans.plan_approve(actor=supervisor, plan=plan)
    # then the case is on hold while the plan is kept
    case.refresh_from_db()
    assert plan.status == "active" and case.status == CaseStatus.INSTALLMENT
    assert [h.kind for h in active_holds([case.party_id], timezone.localdate())] == ["installment"]


def test_a_kept_plan_completes_and_a_missed_instalment_reopens_the_case(
    collector, supervisor, case, owed, make_staff, estate
):
    # given an approved plan of 3 x 200.00 from 10 days from now
    today = timezone.localdate()
    plan = approved_plan(collector, supervisor, case, first_due=today + timedelta(days=10))
    first_due = plan.instalments.first().due_on
    # when the owner pays the first instalment, the plan is kept on the next check
    cashier = make_staff("cashier", estates=[estate])
    pay(cashier, case.party, "200.00", on=today)
    plan = plans.plan_check(plan=plan, today=first_due + timedelta(days=6))
    assert plan.status == InstallmentPlan.Status.ACTIVE
    assert [i.status for i in plan.instalments.all()] == ["kept", "due", "due"]
    # and when the second is not paid by its date plus 5 days' grace, the plan is broken
    second_due = plan.instalments.get(number=2).due_on
    plans.plan_check(plan=plan, today=second_due + timedelta(days=5))
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.ACTIVE  # still within the grace days
    plans.plan_check(plan=plan, today=second_due + timedelta(days=6))
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.BROKEN
    assert "instalment 2" in plan.end_reason
    # then the case is reopened, its hold released, and the collector has a follow-up
    assert case.status == CaseStatus.OPEN
    assert not Hold.objects.filter(case=case, released_at__isnull=True).exists()
    follow_up = Task.objects.get(case=case, kind="follow_up")
    assert plan.number in follow_up.note


def test_a_fully_paid_plan_completes(collector, supervisor, case, owed, make_staff, estate):
    today = timezone.localdate()
    plan = approved_plan(collector, supervisor, case, first_due=today + timedelta(days=10))
    pay(make_staff("cashier", estates=[estate]), case.party, "600.00", on=today)
    plan = plans.plan_check(plan=plan, today=today)
    assert plan.status == InstallmentPlan.Status.COMPLETED
    assert plans.plan_paid(plan) == D("600.00")


def test_one_live_plan_per_case(collector, case, owed):
    first = timezone.localdate() + timedelta(days=10)
    plans.plan_draft(actor=collector, case=case, kind="equal", count=2, first_due=first)
    with pytest.raises(DomainError, match="already has a plan"):
        plans.plan_draft(actor=collector, case=case, kind="equal", count=2, first_due=first)


def test_first_date_in_the_past_is_refused(collector, case, owed):
    with pytest.raises(DomainError, match="first instalment is in the past"):
        plans.plan_draft(
            actor=collector, case=case, kind="equal", count=2, first_due=date(2020, 1, 1)
        )
