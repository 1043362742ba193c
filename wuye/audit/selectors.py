from django.db.models import Q, QuerySet

from wuye.core.normalize import as_date

from .models import AuditEvent


def audit_events(
    *,
    estate_ids: set[int] | None,
    actor: str = "",
    action: str = "",
    subject_type: str = "",
    date_from: str = "",
    date_to: str = "",
) -> QuerySet[AuditEvent]:
    """Audit events of `estate_ids` (None: all) and those tied to no estate, filtered.
    `actor` matches the staff member's name (what the page shows) or the recorded login."""
    qs = AuditEvent.objects.select_related("actor")
    if estate_ids is not None:
        qs = qs.filter(Q(estate_id__in=estate_ids) | Q(estate_id__isnull=True))
    if actor:
        qs = qs.filter(
            Q(actor_name__icontains=actor)
            | Q(actor__last_name__icontains=actor)
            | Q(actor__first_name__icontains=actor)
        )
    if action:
        qs = qs.filter(action=action)
    if subject_type:
        qs = qs.filter(subject_type__icontains=subject_type)
    if d := as_date(date_from):
        qs = qs.filter(at__date__gte=d)
    if d := as_date(date_to):
        qs = qs.filter(at__date__lte=d)
    return qs
