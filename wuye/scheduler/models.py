"""What the scheduler did: one `JobRun` per job and slot (or per "run now"), and each running
scheduler's last tick."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One enqueueing of a scheduled job, and what became of its task.

    The row is inserted before the task is enqueued, in the same transaction, and is unique per
    (job, slot, trigger): two schedulers ticking in the same slot enqueue the job once."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Scheduled")
        MANUAL = "manual", _("By hand")

    class State(models.TextChoices):
        ENQUEUED = "enqueued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    PENDING = (State.ENQUEUED, State.RUNNING)

    job_name = models.CharField(_("job"), max_length=100)
    # The minute or local day the run was due (UTC); for "run now", the minute of the click.
    slot_start = models.DateTimeField(_("due"), db_index=True)
    trigger = models.CharField(
        _("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.ENQUEUED
    )
    backend = models.CharField(_("task backend"), max_length=32, default="default")
    task_result_id = models.CharField(_("task result"), max_length=64, blank=True)
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-slot_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_name", "slot_start", "trigger"], name="jobrun_job_slot_trigger_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["state"],
                name="jobrun_pending_idx",
                condition=models.Q(state__in=["enqueued", "running"]),
            ),
        ]
        permissions = [("run_job", "Can run a scheduled job now")]

    def __str__(self) -> str:
        return f"{self.job_name} @ {self.slot_start:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING


class SchedulerBeat(models.Model):
    """A scheduler process (host:pid) and its last tick, so staff can see scheduling happen."""

    name = models.CharField(_("scheduler"), max_length=150, unique=True)
    started_at = models.DateTimeField(_("started"))
    last_tick_at = models.DateTimeField(_("last tick"), db_index=True)

    class Meta:
        verbose_name = _("scheduler heartbeat")
        verbose_name_plural = _("scheduler heartbeats")
        ordering = ["-last_tick_at", "name"]

    def __str__(self) -> str:
        return self.name
