"""Background jobs (django-tasks): the sweep of orders without news (active query, expiry)."""

from django_tasks import task

from . import services


@task(queue_name="default")
def sweep_orders() -> dict:
    return services.orders_sweep()
