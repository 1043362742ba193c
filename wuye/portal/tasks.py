"""Background jobs (django-tasks) of the owners' portal."""

from django_tasks import task

from . import services


@task(queue_name="default")
def purge_owner_api() -> dict[str, int]:
    """Forget dead owner app tokens (idempotency records go with
    audit.purge_idempotency_records)."""
    return services.owner_api_purge()


@task(queue_name="messages")
def send_code(code_id: int) -> bool:
    """Send a sign-in code if its number is an owner's (services.code_send)."""
    return services.code_send(code_id=code_id)
