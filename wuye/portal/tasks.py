"""Background jobs (django-tasks) of the owners' portal."""

from django_tasks import task

from . import services


@task(queue_name="default")
def purge_owner_api() -> dict[str, int]:
    """Forget dead app tokens and old owner idempotency records."""
    return services.owner_api_purge()
