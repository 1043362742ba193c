"""Installment plans (分期协议) for owners in real hardship: the charges covered, the schedule,
the signed agreement and the supervisor's approval. While kept, the case is on hold; one
missed instalment breaks the plan and reopens the case (`services.plans`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.billing.models import Charge
from wuye.core.money import MoneyField
from wuye.registry.models import Estate, Party

from .cases import ArrearsCase


class InstallmentPlan(models.Model):
    """draft -> (signed scan uploaded) -> active (approved) -> completed | broken; a draft or
    an active plan may be cancelled with a reason."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # An approved plan being paid off: 履行中 (in performance), not a switched-on 启用.
        ACTIVE = "active", pgettext_lazy("installment plan status", "Active")
        COMPLETED = "completed", _("Completed")
        BROKEN = "broken", _("Broken (instalment missed)")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        EQUAL = "equal", _("Equal instalments")
        CUSTOM = "custom", _("Custom dates and amounts")

    TRANSITIONS = {
        "draft": {"active", "cancelled"},
        "active": {"completed", "broken", "cancelled"},
        "completed": set(),
        "broken": set(),
        "cancelled": set(),
    }

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="plans")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("agreement number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    kind = models.CharField(_("schedule"), max_length=8, choices=Kind.choices)
    total = MoneyField(_("amount covered"))
    grace_days = models.PositiveSmallIntegerField(
        _("grace days"),
        default=5,
        help_text=_("An instalment unpaid this many days after its date is missed."),
    )
    note = models.TextField(_("note"), blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField(_("drafted"), auto_now_add=True)
    signed_scan = models.FileField(_("signed agreement"), upload_to="collection/plans/", blank=True)
    signed_sha256 = models.CharField(
        _("SHA-256 of the signed agreement"), max_length=64, blank=True
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("installment plan")
        verbose_name_plural = _("installment plans")
        ordering = ["-drafted_at", "-id"]
        permissions = [("approve_installmentplan", "Can approve installment plans")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="plan_total_positive"),
            models.CheckConstraint(
                condition=~Q(status="active") | ~Q(signed_sha256=""),
                name="plan_active_is_signed",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class PlanCharge(models.Model):
    """A charge the plan covers, with what it owed when the plan was drafted: what it has
    fallen by since is what the owner paid towards the plan."""

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="plan_charges")
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    owed_at_start = MoneyField(_("owed when drafted"))

    class Meta:
        verbose_name = _("charge in a plan")
        verbose_name_plural = _("charges in plans")
        ordering = ["plan_id", "charge_id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "charge"], name="plancharge_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.charge_id}"


class Instalment(models.Model):
    """One instalment: its date and amount, and (kept up by `plans_check`) how much of it is
    covered and whether it is kept or missed."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        KEPT = "kept", _("Kept")
        MISSED = "missed", _("Missed")

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("pay by"))
    amount = MoneyField(_("amount"))
    covered = MoneyField(_("paid"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DUE)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.number} {self.due_on} {self.amount}"
