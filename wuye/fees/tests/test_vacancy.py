"""Vacant-unit discounts: apply -> inspect -> approve / reject, each step audited."""

from datetime import date

import pytest

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.fees import selectors, services
from wuye.fees.models import VacancyDiscount

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_staff, estate):
    return make_staff("customer_service", estates=[estate])


def test_an_approved_vacancy_discount_reaches_billing(clerk, supervisor, unit):
    # given an owner's application, recorded by customer service
    discount = services.vacancy_apply(
        actor=clerk, unit=unit, start_date=date(2026, 1, 1), notes="业主长期在外地工作"
    )
    # when the unit is found vacant on site and a supervisor approves
    services.vacancy_inspect(actor=clerk, discount=discount, vacant=True, notes="水电表未走动")
    discount = services.vacancy_approve(actor=supervisor, discount=discount)
    # then billing sees the span, clipped to the billed period
    assert discount.status == VacancyDiscount.Status.APPROVED
    assert discount.approved_by == supervisor and discount.inspected_by == clerk
    spans = selectors.vacancy_spans([unit.pk], date(2026, 3, 1), date(2026, 3, 31))
    assert spans == {unit.pk: [(date(2026, 3, 1), date(2026, 3, 31))]}
    # and every step is in the audit log
    actions = list(
        AuditEvent.objects.filter(subject_type="fees.vacancydiscount")
        .order_by("id")
        .values_list("action", "actor__username")
    )
    assert [a for a, _ in actions] == ["create", "update", "approve"]
    assert actions[-1][1] == supervisor.username
    assert "水电表未走动" in discount.notes


def test_a_discount_not_yet_approved_gives_no_discount(clerk, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    services.vacancy_inspect(actor=clerk, discount=discount, vacant=True)
    assert selectors.vacancy_spans([unit.pk], date(2026, 1, 1), date(2026, 1, 31)) == {}


def test_approval_needs_an_inspection_first(clerk, supervisor, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    with pytest.raises(DomainError, match="only an inspected application"):
        services.vacancy_approve(actor=supervisor, discount=discount)


def test_customer_service_cannot_approve(clerk, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    services.vacancy_inspect(actor=clerk, discount=discount, vacant=True)
    with pytest.raises(PermissionDenied):
        services.vacancy_approve(actor=clerk, discount=discount)


def test_a_unit_found_in_use_is_rejected_with_the_reason(clerk, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    with pytest.raises(DomainError, match="say what the inspection found"):
        services.vacancy_inspect(actor=clerk, discount=discount, vacant=False)
    discount = services.vacancy_inspect(
        actor=clerk, discount=discount, vacant=False, notes="有人居住，已装修入住"
    )
    assert discount.status == VacancyDiscount.Status.REJECTED
    assert "有人居住" in discount.notes


def test_a_supervisor_rejects_saying_why(clerk, supervisor, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    discount = services.vacancy_reject(actor=supervisor, discount=discount, reason="出租中")
    assert discount.status == VacancyDiscount.Status.REJECTED
    event = AuditEvent.objects.filter(subject_type="fees.vacancydiscount").latest("id")
    assert event.before["status"] == "applied" and event.after["status"] == "rejected"


def test_overlapping_applications_for_one_unit_are_refused(clerk, unit):
    services.vacancy_apply(
        actor=clerk, unit=unit, start_date=date(2026, 1, 1), end_date=date(2026, 6, 30)
    )
    with pytest.raises(DomainError, match="already has a vacancy discount"):
        services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 6, 1))
    # a later span is fine
    services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 7, 1))


def test_ending_a_discount_when_the_owner_moves_in(clerk, supervisor, unit):
    discount = services.vacancy_apply(actor=clerk, unit=unit, start_date=date(2026, 1, 1))
    services.vacancy_inspect(actor=clerk, discount=discount, vacant=True)
    services.vacancy_approve(actor=supervisor, discount=discount)
    services.vacancy_end(actor=supervisor, discount=discount, end_date=date(2026, 3, 15))
    spans = selectors.vacancy_spans([unit.pk], date(2026, 3, 1), date(2026, 3, 31))
    assert spans == {unit.pk: [(date(2026, 3, 1), date(2026, 3, 15))]}
