"""Formal demands (催缴通知书), stage 3: the PDF as issued, its delivery (registered mail with
a tracking number, or by hand with a signed receipt), the proof uploaded and hashed, and the
follow-up call (`services.demands`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.money import MoneyField
from wuye.registry.models import Estate, Party

from .cases import ArrearsCase


class DemandBatch(models.Model):
    """Demands issued together for a list of cases, printed as one PDF."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("PDF"), upload_to="collection/demands/")
    count = models.PositiveIntegerField(_("demands"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demand batch")
        verbose_name_plural = _("demand batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.count})"


class FormalDemand(models.Model):
    """issued -> sent (registered mail posted) -> delivered (proof uploaded) | returned."""

    class Delivery(models.TextChoices):
        REGISTERED_MAIL = "registered", _("Registered mail")
        HAND = "hand", _("By hand, signed receipt")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        SENT = "sent", _("Posted")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned undelivered")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="demands")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        DemandBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="demands"
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    issued_on = models.DateField(_("issued"))
    deadline = models.DateField(_("final deadline"))
    principal = MoneyField(_("arrears"))
    late_fee = MoneyField(_("late fee"), default=0)
    total = MoneyField(_("total demanded"))
    periods = models.JSONField(_("periods"), default=list)
    charge_ids = models.JSONField(_("charges"), default=list)
    pdf = models.FileField(_("PDF"), upload_to="collection/demands/")
    pdf_sha256 = models.CharField(max_length=64)
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    message = models.OneToOneField(
        "notifications.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="formal_demand",
        verbose_name=_("letter"),
    )
    tracking_number = models.CharField(_("registered mail number"), max_length=40, blank=True)
    sent_on = models.DateField(_("posted"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    received_by = models.CharField(_("signed for by"), max_length=100, blank=True)
    proof = models.FileField(_("proof of delivery"), upload_to="collection/proofs/", blank=True)
    proof_name = models.CharField(_("file name"), max_length=200, blank=True)
    proof_sha256 = models.CharField(_("SHA-256 of the proof"), max_length=64, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("formal demand")
        verbose_name_plural = _("formal demands")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | ~Q(proof_sha256=""),
                name="demand_delivered_has_proof",
            ),
        ]

    def __str__(self) -> str:
        return self.number
