from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """An audit row was about to be changed or removed."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One thing that happened: a write, an export, an unmasking, a login.

    Append-only: the ORM refuses updates and deletes, and on PostgreSQL a trigger refuses them
    in the database too (migration 0002)."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        UNMASK = "unmask", _("Reveal personal data")
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        APPROVE = "approve", _("Approve")
        POST = "post", _("Post")
        REVERSE = "reverse", _("Reverse")
        OTHER = "other", _("Other")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, default="system")
    request_id = models.CharField(_("request"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    subject_repr = models.CharField(_("subject"), max_length=255, blank=True)
    estate_id = models.BigIntegerField(_("estate"), null=True, blank=True, db_index=True)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    # The summary as a message id and parameters, shown in the reader's language (see
    # wuye.audit.summaries); `summary` keeps the English text for search and the API.
    summary_message = models.CharField(_("summary message"), max_length=255, blank=True)
    summary_params = models.JSONField(_("summary parameters"), null=True, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.subject_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    @property
    def summary_text(self) -> str:
        """The summary in the active language."""
        from .summaries import render

        return render(self.summary_message, self.summary_params, self.summary)

    @property
    def action_label(self) -> str:
        from .labels import action_label

        return action_label(self.action, dict(self.Action.choices))

    @property
    def subject_label(self) -> str:
        from .labels import subject_label

        return subject_label(self.subject_type)

    @property
    def changes(self) -> list[tuple]:
        from .labels import changes

        return changes(self.subject_type, self.before, self.after)


from .idempotency import IdempotencyRecord  # noqa: E402, F401  (registers the model)
