"""Collection's recurring work (found by wuye.scheduler)."""

from django.utils.translation import gettext_lazy as _

from wuye.scheduler.jobs import Job

JOBS = [
    Job(
        name="collection.dunning_run",
        task="wuye.collection.tasks.run_dunning",
        # After the late fees (01:30): the figures the run reads are the day's.
        daily_at="02:00",
        date_kwarg="as_of",
        queue="bulk",
        label=_("Dunning run"),
    ),
    Job(
        name="collection.outbox_contacts",
        task="wuye.collection.tasks.log_outbox_contacts",
        every_minutes=5,
        label=_("Copy sent reminders into the contact log"),
    ),
    # Before the dunning run: a plan broken yesterday reopens its case in time for it.
    Job(
        name="collection.check_installment_plans",
        task="wuye.collection.tasks.check_installment_plans",
        daily_at="01:45",
        date_kwarg="as_of",
        label=_("Check installment plans"),
    ),
    Job(
        name="collection.escalate_work_orders",
        task="wuye.collection.tasks.escalate_work_orders",
        every_minutes=30,
        label=_("Escalate overdue work orders"),
    ),
]
