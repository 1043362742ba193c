"""Online payments' recurring work (found by wuye.scheduler): query open payment orders at the
provider and expire those whose time is up."""

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
]
