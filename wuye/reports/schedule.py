"""Reports' recurring work (found by wuye.scheduler): fold the deltas postings wrote into
the summary cells, so readers add up few pending rows."""

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
