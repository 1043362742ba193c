"""Service disputes: one raised on a case pauses its dunning and opens a work order for the
right department with its promised deadline; an overdue work order escalates; closing it
gives the collector a call-back task; the outcome goes to the contact log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import CaseStatus, ContactLog, Escalation, Task
from wuye.collection.services import disputes
from wuye.collection.services.cases import active_holds
from wuye.core.errors import DomainError


def test_a_dispute_pauses_dunning_and_its_closure_brings_a_call_back(
    collector, case, make_staff, estate, open_policy
):
    # given a collector hears a service complaint on the case
    dispute = disputes.dispute_raise(
        actor=collector,
        party=case.party,
        case=case,
        category="leak",
        description="楼上漏水三个月没人修，修好再交物业费",
        amount="300.00",
    )
    # then dunning pauses on the case
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED and case.reason == "dispute"
    holds = active_holds([case.party_id], timezone.localdate())
    assert [(h.kind, str(h.amount)) for h in holds] == [("dispute", "300.00")]
    # and a work order went to engineering with its promised deadline (72 hours)
    order = dispute.work_orders.get()
    assert order.department == "engineering" and order.number.startswith("GD-HY-")
    hours = (order.promised_by - dispute.raised_at).total_seconds() / 3600
    assert hours == 72
    # when engineering closes it
    engineer = make_staff("engineering", estates=[estate])
    disputes.work_order_close(actor=engineer, order=order, resolution="已更换楼上防水层")
    # then the collector has a task to call the owner back
    call = Task.objects.get(case=case, kind="call")
    assert order.number in call.note and call.status == "open"
    # and when the collector records the outcome, it is logged and dunning resumes
    disputes.dispute_resolve(
        actor=collector, dispute=dispute, outcome="upheld", note="业主确认已修好，本周缴费"
    )
    dispute.refresh_from_db()
    case.refresh_from_db()
    assert dispute.status == "resolved" and dispute.resolution_hours is not None
    assert case.status == CaseStatus.OPEN
    assert not active_holds([case.party_id], timezone.localdate()).exists()
    entry = ContactLog.objects.filter(case=case).latest("seq")
    assert "业主确认已修好" in entry.said and entry.reason == "dispute"


def test_the_dispute_cannot_be_resolved_while_its_work_order_is_open(collector, case):
    dispute = disputes.dispute_raise(
        actor=collector,
        party=case.party,
        case=case,
        category="cleaning",
        description="楼道很脏没人扫",
    )
    assert dispute.work_orders.get().department == "customer_service"
    with pytest.raises(DomainError, match="still open"):
        disputes.dispute_resolve(actor=collector, dispute=dispute, outcome="upheld", note="ok")


def test_only_the_department_or_a_supervisor_closes_a_work_order(
    collector, supervisor, case, make_staff, estate
):
    dispute = disputes.dispute_raise(
        actor=collector, party=case.party, case=case, category="noise", description="夜里施工噪音"
    )
    order = dispute.work_orders.get()
    assert order.department == "security"
    with pytest.raises(DomainError, match="only the department"):
        disputes.work_order_close(actor=collector, order=order, resolution="done")
    with pytest.raises(DomainError, match="only the department"):
        disputes.work_order_close(
            actor=make_staff("engineering", estates=[estate]), order=order, resolution="x"
        )
    disputes.work_order_close(actor=supervisor, order=order, resolution="已劝停施工")


def test_an_overdue_work_order_escalates_once(collector, case):
    dispute = disputes.dispute_raise(
        actor=collector, party=case.party, case=case, category="repair", description="电梯经常坏"
    )
    order = dispute.work_orders.get()
    # nothing is overdue before the promised deadline
    assert disputes.work_orders_escalate(now=order.promised_by - timedelta(minutes=1)) == 0
    later = order.promised_by + timedelta(hours=1)
    assert disputes.work_orders_escalate(now=later) == 1
    assert disputes.work_orders_escalate(now=later) == 0
    order.refresh_from_db()
    assert order.escalated_at == later
    escalation = Escalation.objects.get(case=case)
    assert escalation.kind == "automatic" and order.number in escalation.note
