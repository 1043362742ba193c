"""Reads of staff administration: the staff a supervisor sees, and whose login is locked."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from wuye.core.normalize import clean_text
from wuye.registry.selectors import visible_estate_ids


def staff_for(actor, *, q: str = "", active: bool | None = None) -> QuerySet:
    """Staff of the actor's estates, and staff with no estate yet (a new hire); superusers
    never. Ordered by name."""
    qs = (
        get_user_model()
        .objects.filter(is_superuser=False)
        .select_related("staff_profile")
        .prefetch_related("groups", "staff_profile__estates")
    )
    ids = visible_estate_ids(actor)
    if ids is not None:
        qs = qs.filter(
            Q(staff_profile__estates__in=ids) | Q(staff_profile__estates__isnull=True)
        ).distinct()
    if active is not None:
        qs = qs.filter(is_active=active)
    q = clean_text(q)
    if q:
        qs = qs.filter(
            Q(last_name__icontains=q)
            | Q(first_name__icontains=q)
            | Q(username__icontains=q)
            | Q(staff_profile__phone__contains=q)
        )
    return qs.order_by("-is_active", "last_name", "first_name", "id")


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these logins failed logging in often enough to be locked right now."""
    from axes.models import AccessAttempt

    limit = int(getattr(settings, "AXES_FAILURE_LIMIT", 5))
    qs = AccessAttempt.objects.filter(username__in=usernames, failures_since_start__gte=limit)
    hours = getattr(settings, "AXES_COOLOFF_TIME", None)
    if hours:
        qs = qs.filter(attempt_time__gte=timezone.now() - timedelta(hours=float(hours)))
    return set(qs.values_list("username", flat=True))
