"""Dunning runs: one row per run (daily by the scheduler, or `wuye dunning run --as-of`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.registry.models import Estate


class DunningRun(models.Model):
    """One pass of the engine over the overdue parties of one estate (or of every estate).
    Idempotent per day: a second run for the same `as_of` emits nothing new."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    estate = models.ForeignKey(
        Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("dunning run")
        verbose_name_plural = _("dunning runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} {self.status}"
