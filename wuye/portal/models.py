"""The owners' portal: one-time sign-in codes, and the requests owners raise (a service
dispute or a hardship request) that staff work from. Owners are not Django users; a signed
cookie holds the verified phone (see session.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.crypto import EncryptedTextField
from wuye.registry.models import Estate, Party, Unit


class LoginCode(models.Model):
    """A one-time sign-in code sent to a phone. Stored hashed (and, until the send job ran,
    encrypted); valid for minutes; a few attempts. Made for every well-formed number asked
    for, known or not, so the limits and the answers are the same and a stranger learns
    nothing about who is an owner."""

    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    ip = models.CharField(max_length=45, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    sent = models.BooleanField(_("sent"), default=False)
    # The code itself, encrypted, from the request until the send job has run (it is blanked
    # then, whether or not the number was an owner's): the request does the same work for
    # every number, and the job decides whether anything is sent.
    code_sealed = EncryptedTextField(blank=True, default="")

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class OwnerRequest(models.Model):
    """A service dispute (服務異議) or a hardship request (困難申請) an owner raised in the
    portal; it waits for staff (customer service, collectors) who answer and close it."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("Service dispute")
        HARDSHIP = "hardship", _("Hardship request")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("Being handled")
        CLOSED = "closed", _("Closed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="owner_requests")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("what happened"))
    charge_ids = models.JSONField(_("charges concerned"), default=list, blank=True)
    phone = models.CharField(_("call back on"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    answer = models.TextField(_("answer to the owner"), blank=True)

    class Meta:
        verbose_name = _("owner request")
        verbose_name_plural = _("owner requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.party} {self.created_at:%Y-%m-%d}"


class OwnerToken(models.Model):
    """A sign-in of the owners' app (API token, sent as `Authorization: Owner <key>`).

    Only a SHA-256 of the key is kept: the key is shown once, when issued. Like the portal's
    cookie it names a verified phone, and the parties are looked up by that phone on every
    request. It lapses 30 days after it was last used (sliding), and in any case 180 days
    after sign-in (settings `token_idle_days`, `token_max_days` of WUYE_PORTAL); signing out
    revokes it."""

    key_hash = models.CharField(max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(_("device"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("owner app sign-in")
        verbose_name_plural = _("owner app sign-ins")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"

    def is_live(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
