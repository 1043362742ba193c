"""Background jobs (django-tasks): refreshing the report summaries."""

from django_tasks import task

from . import summaries


@task()
def refresh_summaries() -> int:
    """Recompute what postings marked; returns how many marks were taken."""
    total = 0
    while taken := summaries.refresh():
        total += taken
    return total
