"""Legal cases (诉讼 / 仲裁 / 支付令), stage 4 and the last resort: proposed by a collector,
approved by a supervisor only when stages 1-3 happened (`services.legal`), with the
evidence file and the court's numbers, dates, judgment, enforcement and costs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.money import MoneyField
from wuye.registry.models import Estate, Party

from .cases import ArrearsCase


class LegalCase(models.Model):
    """proposed -> approved | rejected; approved -> filed -> judged -> enforcing -> closed
    (closed from any step after approval: settled, withdrawn, paid)."""

    class Kind(models.TextChoices):
        LITIGATION = "litigation", _("Lawsuit (诉讼)")
        ARBITRATION = "arbitration", _("Arbitration (仲裁)")
        PAYMENT_ORDER = "payment_order", _("Payment order (支付令)")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        FILED = "filed", _("Filed")
        JUDGED = "judged", _("Judged")
        ENFORCING = "enforcing", _("Enforcement")
        CLOSED = "closed", _("Closed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="legal_cases")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    amount_claimed = MoneyField(_("amount claimed"))
    reason = models.TextField(_("why court is the last resort"))
    stages = models.JSONField(_("earlier stages"), default=dict, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    court = models.CharField(_("court or arbitration body"), max_length=100, blank=True)
    case_number = models.CharField(_("case number"), max_length=60, blank=True)
    filed_on = models.DateField(_("filed"), null=True, blank=True)
    hearing_on = models.DateField(_("hearing"), null=True, blank=True)
    judgment_on = models.DateField(_("judgment"), null=True, blank=True)
    judgment = models.TextField(_("judgment"), blank=True)
    judgment_amount = MoneyField(_("amount awarded"), null=True, blank=True)
    enforcement_number = models.CharField(_("enforcement case number"), max_length=60, blank=True)
    enforcement = models.TextField(_("enforcement"), blank=True)
    costs = MoneyField(_("costs"), default=0)
    costs_note = models.CharField(_("costs note"), max_length=255, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    evidence = models.FileField(_("evidence file"), upload_to="collection/evidence/", blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_made_at = models.DateTimeField(_("evidence file made"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal case")
        verbose_name_plural = _("legal cases")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_legalcase", "Can approve a legal case")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"
