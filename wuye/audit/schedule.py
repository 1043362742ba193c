"""The audit app's recurring work (found by wuye.scheduler): forgetting old API idempotency
records (a client retries within minutes, not weeks).

The audit app sits below the scheduler in the import layers, so it declares its job as a plain
dict with the fields of `wuye.scheduler.jobs.Job` instead of importing that class."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from .idempotency import idempotency_records_purge


@task(queue_name="default")
def purge_idempotency_records(days: int = 7) -> int:
    """Delete idempotency records older than `days`; returns how many."""
    return idempotency_records_purge(older_than=timedelta(days=days))


JOBS = [
    {
        "name": "audit.purge_idempotency_records",
        "task": "wuye.audit.schedule.purge_idempotency_records",
        "daily_at": "03:00",
        "kwargs": {"days": 7},
        "label": _("Purge old idempotency records"),
    },
]
