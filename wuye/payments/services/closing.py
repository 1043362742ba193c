"""The day-end close (日結): finance reviews the day's payments and signs the day off, freezing
the daily business report (營業日報). A signed-off day takes no more postings."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.names import person_name
from wuye.registry.models import Estate
from wuye.registry.services import require_estate, require_perm

from ..models import CashierShift, DayClose
from ._common import user_or_none


@transaction.atomic
def day_sign_off(*, actor, estate: Estate, business_date: date, note: str = "") -> DayClose:
    """Sign off `business_date` at `estate` (permission `payments.review_day`). Every shift of
    the day must be closed first. The report is frozen into the close."""
    from ..selectors import daily_report

    require_perm(actor, "payments.review_day")
    require_estate(actor, estate.pk)
    still_open = CashierShift.objects.filter(
        estate=estate, business_date__lte=business_date, status=CashierShift.Status.OPEN
    ).select_related("cashier")
    if still_open:
        names = ", ".join(sorted({person_name(s.cashier) for s in still_open}))
        raise DomainError(
            _("shifts still open: %(names)s; close them first") % {"names": names}, field="shift"
        )
    report = daily_report(estate_id=estate.pk, business_date=business_date)
    try:
        with transaction.atomic():
            close = DayClose.objects.create(
                estate=estate,
                business_date=business_date,
                report=report,
                signed_off_by=user_or_none(actor),
                note=(note or "").strip()[:255],
            )
    except IntegrityError as exc:
        raise DomainError(
            _("%(date)s is already signed off") % {"date": business_date}, field="business_date"
        ) from exc
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=close,
        summary=Summary(gettext_noop("day %(day)s signed off"), day=business_date),
    )
    return close
