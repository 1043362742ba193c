"""Billing's recurring work (found by wuye.scheduler): the daily late-fee assessment."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="billing.assess_late_fees",
        task="wuye.billing.tasks.assess_late_fees",
        daily_at="01:30",
        # The day it was due, even when caught up after midnight (idempotent per charge and day).
        date_kwarg="as_of",
        queue="bulk",
        label=_("Assess late fees"),
    ),
]
