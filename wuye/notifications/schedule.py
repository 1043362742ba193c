"""Notifications' recurring work (found by wuye.scheduler): sending the messages that are due
(retries after their backoff, messages held by quiet hours or the weekly cap)."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="notifications.dispatch_due",
        task="wuye.notifications.tasks.dispatch_due",
        every_minutes=5,
        queue="messages",
        label=_("Send due messages"),
    ),
]
