"""Online payments' recurring work (found by wuye.scheduler): query open payment orders at the
provider and expire those whose time is up; post what the inbox worker left queued; forget
old rejected notifications."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="online.sweep_orders",
        task="wuye.online.tasks.sweep_orders",
        every_minutes=1,
        queue="default",
        label=_("Sweep open payment orders"),
    ),
    Job(
        name="online.post_inbox",
        task="wuye.online.tasks.post_inbox",
        every_minutes=1,
        queue="default",
        label=_("Post acknowledged payment notifications"),
    ),
    Job(
        name="online.purge_rejected",
        task="wuye.online.tasks.purge_rejected",
        daily_at="03:20",
        label=_("Forget old rejected payment notifications"),
    ),
]
