"""Vacant-unit discounts (空置房優惠): apply -> inspect on site -> approve (supervisor) / reject.

While an approved discount runs, billing charges recurring fees at the standard's
`vacancy_rate` (see `selectors.vacancy_spans`)."""

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.names import person_name
from wuye.core.normalize import clean_text
from wuye.registry.models import Unit

from ..models import VacancyDiscount
from ._common import AuditEvent, audit_record, require_estate, require_perm, snapshot

_FIELDS = ["status", "start_date", "end_date", "notes"]


def _locked(discount: VacancyDiscount) -> VacancyDiscount:
    return VacancyDiscount.objects.select_for_update().select_related("unit").get(pk=discount.pk)


def _append_note(discount: VacancyDiscount, who, text: str) -> None:
    text = clean_text(text)
    if text:
        line = f"[{timezone.localdate()} {person_name(who)}] {text}"
        discount.notes = f"{discount.notes}\n{line}".strip()


@transaction.atomic
def vacancy_apply(
    *, actor, unit: Unit, start_date: date, end_date: date | None = None, notes: str = ""
) -> VacancyDiscount:
    """Record an owner's application for a vacancy discount from `start_date`."""
    require_perm(actor, "fees.add_vacancydiscount")
    require_estate(actor, unit.estate_id)
    if end_date is not None and end_date < start_date:
        raise DomainError(
            _("%(unit)s: the end date is before the start date") % {"unit": unit},
            field="end_date",
        )
    # Lock the unit so that two overlapping applications cannot both pass the check.
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    overlap = (
        VacancyDiscount.objects.filter(unit=unit)
        .exclude(status=VacancyDiscount.Status.REJECTED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date))
    )
    if end_date is not None:
        overlap = overlap.filter(start_date__lte=end_date)
    clash = overlap.first()
    if clash is not None:
        raise DomainError(
            _("%(unit)s already has a vacancy discount (%(status)s) from %(day)s")
            % {"unit": unit, "status": clash.get_status_display(), "day": clash.start_date},
            field="start_date",
        )
    discount = VacancyDiscount(
        estate_id=unit.estate_id,
        unit=unit,
        start_date=start_date,
        end_date=end_date,
        applied_by=actor,
    )
    _append_note(discount, actor, notes)
    discount.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=discount,
        summary=Summary(
            gettext_noop("vacancy discount applied for %(unit)s from %(day)s"),
            unit=unit,
            day=start_date,
        ),
        after=snapshot(discount, _FIELDS),
    )
    return discount


@transaction.atomic
def vacancy_inspect(
    *, actor, discount: VacancyDiscount, vacant: bool, notes: str = ""
) -> VacancyDiscount:
    """Record the site inspection: a unit found vacant moves on to approval; one found in use
    is rejected with the inspector's notes."""
    require_perm(actor, "fees.inspect_vacancydiscount")
    require_estate(actor, discount.estate_id)
    discount = _locked(discount)
    if discount.status != VacancyDiscount.Status.APPLIED:
        raise DomainError(
            _("%(unit)s: only an application can be inspected (it is %(status)s)")
            % {"unit": discount.unit, "status": discount.get_status_display()},
            field="status",
        )
    if not vacant and not clean_text(notes):
        raise DomainError(
            _("%(unit)s: say what the inspection found") % {"unit": discount.unit},
            field="notes",
        )
    before = snapshot(discount, _FIELDS)
    discount.status = (
        VacancyDiscount.Status.INSPECTED if vacant else VacancyDiscount.Status.REJECTED
    )
    discount.inspected_by = actor
    discount.inspected_at = timezone.now()
    _append_note(discount, actor, notes or "inspected: vacant")
    discount.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=discount,
        summary=Summary(
            gettext_noop("inspection of %(unit)s: vacant")
            if vacant
            else gettext_noop("inspection of %(unit)s: in use"),
            unit=discount.unit,
        ),
        before=before,
        after=snapshot(discount, _FIELDS),
    )
    return discount


@transaction.atomic
def vacancy_approve(*, actor, discount: VacancyDiscount, notes: str = "") -> VacancyDiscount:
    """A supervisor approves an inspected application; billing applies it from then on."""
    require_perm(actor, "fees.approve_vacancydiscount")
    require_estate(actor, discount.estate_id)
    discount = _locked(discount)
    if discount.status != VacancyDiscount.Status.INSPECTED:
        raise DomainError(
            _("%(unit)s: only an inspected application can be approved (it is %(status)s)")
            % {"unit": discount.unit, "status": discount.get_status_display()},
            field="status",
        )
    before = snapshot(discount, _FIELDS)
    discount.status = VacancyDiscount.Status.APPROVED
    discount.approved_by = actor
    discount.decided_at = timezone.now()
    _append_note(discount, actor, notes)
    discount.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=discount,
        summary=Summary(
            gettext_noop("vacancy discount approved for %(unit)s from %(day)s"),
            unit=discount.unit,
            day=discount.start_date,
        ),
        before=before,
        after=snapshot(discount, _FIELDS),
    )
    return discount


@transaction.atomic
def vacancy_reject(*, actor, discount: VacancyDiscount, reason: str) -> VacancyDiscount:
    """A supervisor turns an application down, saying why."""
    require_perm(actor, "fees.approve_vacancydiscount")
    require_estate(actor, discount.estate_id)
    if not clean_text(reason):
        raise DomainError(
            _("%(unit)s: say why it is rejected") % {"unit": discount.unit}, field="reason"
        )
    discount = _locked(discount)
    if discount.status not in (VacancyDiscount.Status.APPLIED, VacancyDiscount.Status.INSPECTED):
        raise DomainError(
            _("%(unit)s: a %(status)s discount cannot be rejected")
            % {"unit": discount.unit, "status": discount.get_status_display().lower()},
            field="status",
        )
    before = snapshot(discount, _FIELDS)
    discount.status = VacancyDiscount.Status.REJECTED
    discount.approved_by = actor
    discount.decided_at = timezone.now()
    _append_note(discount, actor, f"rejected: {reason}")
    discount.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=discount,
        summary=Summary(gettext_noop("vacancy discount rejected for %(unit)s"), unit=discount.unit),
        before=before,
        after=snapshot(discount, _FIELDS),
    )
    return discount


@transaction.atomic
def vacancy_end(*, actor, discount: VacancyDiscount, end_date: date) -> VacancyDiscount:
    """End an approved discount when the unit is occupied (moving in, renting out)."""
    require_perm(actor, "fees.change_vacancydiscount")
    require_estate(actor, discount.estate_id)
    discount = _locked(discount)
    if discount.status != VacancyDiscount.Status.APPROVED:
        raise DomainError(
            _("%(unit)s: only an approved discount can be ended") % {"unit": discount.unit}
        )
    if end_date < discount.start_date:
        raise DomainError(
            _("%(unit)s: the end date is before the start %(day)s")
            % {"unit": discount.unit, "day": discount.start_date},
            field="end_date",
        )
    if discount.end_date is not None and end_date > discount.end_date:
        raise DomainError(
            _("%(unit)s: the discount already ends on %(day)s")
            % {"unit": discount.unit, "day": discount.end_date},
            field="end_date",
        )
    before = snapshot(discount, _FIELDS)
    discount.end_date = end_date
    discount.save(update_fields=["end_date"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=discount,
        summary=Summary(
            gettext_noop("vacancy discount of %(unit)s ends %(day)s"),
            unit=discount.unit,
            day=end_date,
        ),
        before=before,
        after=snapshot(discount, _FIELDS),
    )
    return discount
