"""The registry's recurring work (found by wuye.scheduler): tidying import jobs."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="registry.sweep_import_jobs",
        task="wuye.registry.tasks.sweep_import_jobs",
        every_minutes=60,
        label=_("Tidy import jobs: fail stalled ones, delete week-old files"),
    ),
]
