"""Billing's recurring work (found by wuye.scheduler): the daily late-fee assessment and the
monthly revenue recognition (run daily: idempotent per estate and month)."""

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
    Job(
        name="billing.recognise_revenue",
        task="wuye.billing.tasks.recognise_revenue",
        # Daily, not on the 1st only: the first run of a month posts its entry, the others
        # post nothing (one recognition per estate and month), and a missed day catches up.
        daily_at="00:20",
        date_kwarg="as_of",
        queue="bulk",
        label=_("Recognise fees paid in advance as revenue"),
    ),
]
