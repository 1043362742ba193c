"""Service disputes (服务异议) and the work orders (工单) that fix their cause.

A dispute pauses dunning of its case while open (a `dispute` hold). Its work order goes to a
department with a category, an owner and the promised deadline (承诺时限); an overdue one
escalates; closing it gives the collector a task to call the owner back, and the dispute's
outcome is logged (`services.disputes`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.money import MoneyField
from wuye.registry.models import Estate, Party

from .cases import ArrearsCase

__all__ = ["DisputeCategory", "Department"]


class DisputeCategory(models.TextChoices):
    REPAIR = "repair", _("Repairs and maintenance")
    LEAK = "leak", _("Water leak")
    CLEANING = "cleaning", _("Cleaning")
    SECURITY = "security", _("Security")
    GREENING = "greening", _("Landscaping")
    PARKING = "parking", _("Parking")
    NOISE = "noise", _("Noise")
    BILLING = "billing", _("The bill itself")
    OTHER = "other", _("Other")


class Department(models.TextChoices):
    ENGINEERING = "engineering", _("Engineering")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    SECURITY = "security", _("Security")


class Dispute(models.Model):
    """A service dispute raised on a case by staff or by the owner in the portal."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the service was at fault")
        PARTLY = "partly", _("Partly upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld")

    class Source(models.TextChoices):
        STAFF = "staff", _("Raised by staff")
        PORTAL = "portal", _("Raised by the owner in the portal")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        ArrearsCase, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    category = models.CharField(_("category"), max_length=12, choices=DisputeCategory.choices)
    description = models.TextField(_("what the owner says"))
    amount = MoneyField(_("amount disputed"), null=True, blank=True)
    source = models.CharField(_("raised"), max_length=8, choices=Source.choices)
    portal_request_id = models.BigIntegerField(
        _("portal request"), null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("what was agreed"), blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["estate", "status"], name="dispute_estate_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    @property
    def resolution_hours(self) -> float | None:
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.raised_at).total_seconds() / 3600, 1)


class WorkOrder(models.Model):
    """工单: the job that fixes what a dispute is about."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="work_orders")
    number = models.CharField(_("number"), max_length=30, unique=True)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    category = models.CharField(_("category"), max_length=12, choices=DisputeCategory.choices)
    description = models.TextField(_("job"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    promised_by = models.DateTimeField(_("promised deadline (承诺时限)"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.TextField(_("what was done"), blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["promised_by", "id"]
        indexes = [
            models.Index(fields=["estate", "status", "promised_by"], name="workorder_open_idx")
        ]

    def __str__(self) -> str:
        return self.number

    def is_overdue(self, now) -> bool:
        return self.status == self.Status.OPEN and now > self.promised_by
