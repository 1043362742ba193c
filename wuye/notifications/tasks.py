"""Background jobs (django-tasks): sending one message, dispatching due ones, campaigns."""

from django_tasks import task

from . import services


@task(queue_name="messages")
def send_message(message_id: int) -> str:
    return services.message_send(message_id=message_id).status


@task(queue_name="messages")
def dispatch_due() -> int:
    # Every few minutes anyway: also erase the codes of messages that never went out.
    services.message_secrets_erase()
    return services.message_dispatch_due()


@task(queue_name="bulk")
def run_campaign(campaign_id: int) -> str:
    return services.campaign_run(campaign_id=campaign_id).status
