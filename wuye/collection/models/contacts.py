"""The contact log (催收记录): append-only and tamper-evident.

Each entry stores the SHA-256 of its own content and of the previous entry of its estate
(`prev_hash`), so an edited, deleted or inserted row breaks the chain and `wuye contacts
verify` reports where. The chain is per estate (a lock on `ContactChainHead` orders writers;
`seq` is gapless within the estate). Corrections are new entries pointing at what they correct.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.registry.models import Estate, Party

from .cases import ArrearsCase
from .choices import ContactChannel, Reason


class ContactChainHead(models.Model):
    """The last entry of an estate's chain; locked by every writer of that estate."""

    estate = models.OneToOneField(
        Estate, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("contact chain head")
        verbose_name_plural = _("contact chain heads")
        ordering = ["estate_id"]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.seq}"


class ContactLog(models.Model):
    """One contact with a party: time, channel, staff (none: the outbox), what was said, the
    owner's response, the outcome and the reason."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        PROMISED = "promised", _("Promised to pay")
        REFUSED = "refused", _("Refused")
        PAID = "paid", _("Paid")
        SENT = "sent", _("Message sent")
        SUPPRESSED = "suppressed", _("Message held back")
        FAILED = "failed", _("Message failed")
        NOTE = "note", _("Note")
        CORRECTION = "correction", _("Correction")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField(_("number"))
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        ArrearsCase, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    at = models.DateTimeField(_("time"))
    channel = models.CharField(_("channel"), max_length=12, choices=ContactChannel.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff"),
    )
    said = models.TextField(_("what was said"), blank=True)
    response = models.TextField(_("owner's response"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    message = models.OneToOneField(
        "notifications.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_log",
        verbose_name=_("outbox message"),
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contact log")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "seq"], name="contactlog_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["party", "at"], name="contactlog_party_idx"),
            models.Index(fields=["case", "at"], name="contactlog_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.channel} {self.outcome}"


class ContactAttachment(models.Model):
    """Evidence of a contact (a call recording, a photo, a signed receipt) with its SHA-256,
    which is part of the contact's hash."""

    class Kind(models.TextChoices):
        RECORDING = "recording", _("Call recording")
        PHOTO = "photo", _("Photo")
        RECEIPT = "receipt", _("Signed receipt")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(ContactLog, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="collection/contacts/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["contact_id", "sha256", "id"]

    def __str__(self) -> str:
        return self.name
