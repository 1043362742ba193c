"""Reports' recurring work (found by wuye.scheduler): recompute the summary cells postings
marked, so the first reader after a busy minute finds little left to do."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="reports.refresh_summaries",
        task="wuye.reports.tasks.refresh_summaries",
        every_minutes=1,
        label=_("Refresh the report summaries"),
    ),
]
