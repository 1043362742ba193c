from datetime import date

from django.db.models import Q, QuerySet

from .models import AuditEvent


def audit_events(
    *,
    estate_ids: set[int] | None,
    actor: str = "",
    action: str = "",
    subject_type: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
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
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs
