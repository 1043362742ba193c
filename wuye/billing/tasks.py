"""Background jobs (django-tasks): a bill run, and the daily late-fee assessment.

Schedule `assess_late_fees` once a day (e.g. cron: `wuye assess-late-fees --as-of today`, or
enqueue `assess_late_fees` from any scheduler); it is idempotent per charge and day."""

from datetime import date

from django.utils import timezone
from django_tasks import task

from . import services
from .models import BillingRun


@task(queue_name="bulk")
def run_billing(run_id: int) -> str:
    """Post (or resume) a bill run; progress is on the run."""
    run = BillingRun.objects.get(pk=run_id)
    run = services.billing_run_post(run=run, actor=run.started_by)
    return run.status


@task(queue_name="bulk")
def assess_late_fees(as_of: str = "", estate_code: str = "") -> dict:
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    results = services.late_fees_assess_all(as_of=day, estate_code=estate_code)
    return {r.estate: str(r.amount) for r in results}


@task(queue_name="bulk")
def recognise_revenue(as_of: str = "", estate_code: str = "") -> dict:
    """The month of `as_of`: every estate's fees paid in advance whose month has come move
    from the contract liability to revenue (`services.revenue_recognise_all`)."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    results = services.revenue_recognise_all(month=day, today=day, estate_code=estate_code)
    return {code: (str(r.amount) if hasattr(r, "amount") else r) for code, r in results}
