"""The portal's recurring work (found by wuye.scheduler): forgetting dead owner app tokens (the
owners' idempotency records are purged with everyone's by audit.purge_idempotency_records)."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="portal.purge_owner_api",
        task="wuye.portal.tasks.purge_owner_api",
        daily_at="03:10",
        label=_("Purge dead owner app tokens"),
    ),
]
