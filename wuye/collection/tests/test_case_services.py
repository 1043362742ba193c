"""Holds, reasons, promises and escalations on a case, with their permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from wuye.collection.models import Escalation, Hold
from wuye.collection.services.cases import (
    active_holds,
    case_set_reason,
    escalation_raise,
    escalation_resolve,
    escalation_take,
    hold_place,
    hold_release,
    promise_record,
)
from wuye.core.errors import DomainError, PermissionDenied

pytestmark = pytest.mark.django_db


def test_a_manual_hold_needs_a_reason_and_an_expiry(collector, case):
    today = timezone.localdate()
    with pytest.raises(DomainError) as no_reason:
        hold_place(actor=collector, case=case, kind="manual", expires_on=today)
    assert no_reason.value.field == "reason"
    with pytest.raises(DomainError) as no_expiry:
        hold_place(actor=collector, case=case, kind="manual", reason="owner in hospital")
    assert no_expiry.value.field == "expires_on"
    hold = hold_place(
        actor=collector,
        case=case,
        kind="manual",
        reason="owner in hospital",
        expires_on=today + timedelta(days=14),
    )
    assert list(active_holds([case.party_id], today)) == [hold]
    assert not active_holds([case.party_id], today + timedelta(days=15)).exists()


def test_releasing_a_hold_is_a_supervisors(collector, supervisor, case):
    hold = hold_place(
        actor=collector,
        case=case,
        kind="manual",
        reason="x",
        expires_on=timezone.localdate() + timedelta(days=3),
    )
    with pytest.raises(PermissionDenied):
        hold_release(actor=collector, hold=hold)
    hold_release(actor=supervisor, hold=hold)
    assert not active_holds([case.party_id], timezone.localdate()).exists()


def test_malicious_needs_a_supervisor(collector, supervisor, case):
    with pytest.raises(PermissionDenied):
        case_set_reason(actor=collector, case=case, reason="malicious")
    case = case_set_reason(actor=supervisor, case=case, reason="malicious")
    assert case.reason == "malicious"


def test_the_reason_decides_the_status(collector, case):
    assert case_set_reason(actor=collector, case=case, reason="dispute").status == "disputed"
    assert case_set_reason(actor=collector, case=case, reason="hardship").status == "hardship"
    assert case_set_reason(actor=collector, case=case, reason="forgot").status == "open"


def test_a_promise_holds_the_case_until_its_date(collector, case):
    due = timezone.localdate() + timedelta(days=5)
    promise = promise_record(actor=collector, case=case, amount=Decimal("300"), due_on=due)
    case.refresh_from_db()
    assert case.status == "promised"
    hold = Hold.objects.get(source=f"collection.promisetopay:{promise.pk}")
    assert hold.kind == "promise" and hold.expires_on == due
    with pytest.raises(DomainError):
        promise_record(
            actor=collector, case=case, amount=Decimal("1"), due_on=due - timedelta(days=30)
        )


def test_escalation_queue_is_a_supervisors(collector, supervisor, case):
    with pytest.raises(DomainError):
        escalation_raise(actor=collector, case=case, note=" ")
    escalation = escalation_raise(actor=collector, case=case, note="owner shouting, hand over")
    assert escalation_raise(actor=collector, case=case, note="again") == escalation
    with pytest.raises(PermissionDenied):
        escalation_take(actor=collector, escalation=escalation)
    escalation_take(actor=supervisor, escalation=escalation)
    escalation = escalation_resolve(
        actor=supervisor, escalation=escalation, resolution="called back, agreed to pay"
    )
    assert escalation.status == Escalation.Status.RESOLVED
    case.refresh_from_db()
    assert case.assignee == supervisor
