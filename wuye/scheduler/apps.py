from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    """Recurring jobs: each app lists its own in `schedule.py`; one scheduler enqueues them."""

    name = "wuye.scheduler"
    verbose_name = "Scheduled jobs"
