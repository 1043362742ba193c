"""Background jobs (django-tasks): folding the report summaries' pending deltas into the
cells (docs/adr/0009)."""

from django_tasks import task

from . import summaries


@task()
def refresh_summaries() -> int:
    """Fold the deltas postings wrote into the cells; returns how many were folded."""
    total = 0
    while taken := summaries.refresh():
        total += taken
    return total
