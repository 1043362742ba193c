"""Background jobs (django-tasks): the sweep of orders without news (active query, expiry),
and the inbox's safety net."""

from django_tasks import task

from . import services


@task(queue_name="default")
def sweep_orders() -> dict:
    return services.orders_sweep()


@task(queue_name="default")
def post_inbox() -> dict:
    """Post whatever acknowledged notification still waits (`notify_posting` "worker"): the
    safety net when no `wuye online_post` runs, or it stopped. Nothing to do in "sync"."""
    taken = services.inbox_work(once=True, handle_signals=False)
    return {"posted": taken, **services.inbox_lag()}


@task(queue_name="default")
def purge_rejected() -> dict:
    return {"purged": services.inbox_rejected_purge()}


@task(queue_name="bulk")
def post_statement(statement_id: int) -> dict:
    """Post a long bank statement's lines (resumable: the lines recorded are skipped)."""
    statement = services.transfer_statement_finish(statement_id=statement_id)
    return {"posted": statement.posted, "to_check": statement.to_check}
