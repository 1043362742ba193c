"""Collection's background jobs: the daily dunning run, and the outbox's messages copied into
the contact log."""

from datetime import date

from django.utils import timezone
from django_tasks import task

from .services.contacts import contacts_from_outbox
from .services.run import dunning_run


@task(queue_name="bulk")
def run_dunning(as_of: str = "") -> dict:
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return dunning_run(as_of=day).counts


@task(queue_name="default")
def log_outbox_contacts() -> int:
    return contacts_from_outbox()


@task(queue_name="default")
def check_installment_plans(as_of: str = "") -> dict:
    """Judge every active installment plan (kept / missed) on the day."""
    from .services.plans import plans_check

    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return plans_check(today=day)


@task(queue_name="default")
def escalate_work_orders() -> int:
    """Work orders past their promised deadline go to a supervisor."""
    from .services.disputes import work_orders_escalate

    return work_orders_escalate()
