"""Notifications: the outbox of messages to parties, their templates, the contact policy that
guards every contact, opt-outs, letter print batches and bill notice campaigns.

A message is written to the outbox in the transaction of the business event that causes it and
is sent after that transaction commits (a task per message). Every status change is a declared
transition (`Message.TRANSITIONS`)."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.registry.models import Estate, Party


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("App")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")


# Channels a person contacts through that are not messages; collection records them with
# `contact_mark` so that the weekly cap counts them too.
CONTACT_CHANNELS = [*Channel.values, "call", "visit"]


class Purpose(models.TextChoices):
    BILL_NOTICE = "bill_notice", _("Bill notice")
    REMINDER = "reminder", _("Reminder")
    FORMAL_DEMAND = "formal_demand", _("Formal demand")
    ONE_TIME_CODE = "one_time_code", _("One-time code")
    WELCOME = "welcome", _("Welcome")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    ZH_HANT = "zh-hant", "繁體中文"
    EN = "en", "English"


class MessageTemplate(models.Model):
    """The wording of a message (code + channel + language + version). Once a version has been
    used it is never edited: a change is a new version, and older messages keep theirs."""

    code = models.CharField(_("code"), max_length=50)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    # Empty means any channel; a channel-specific template wins over the generic one.
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, blank=True, default=""
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code", "channel", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language", "version"],
                name="notify_template_version_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.channel or '*'} {self.language} v{self.version}"


class ContactPolicy(models.Model):
    """How and when an estate's parties may be contacted: quiet hours (local time), a cap per
    party per channel over a rolling week and one across all channels together, and which
    channels are enabled."""

    estate = models.OneToOneField(Estate, on_delete=models.PROTECT, related_name="contact_policy")
    time_zone = models.CharField(_("time zone"), max_length=40, default="Asia/Shanghai")
    quiet_start = models.TimeField(_("quiet hours from"), default=time(21, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=time(8, 0))
    weekly_cap = models.PositiveSmallIntegerField(_("contacts per channel per week"), default=3)
    # Contacts of a party on every channel together (messages, calls, visits); null: no cap.
    weekly_cap_total = models.PositiveSmallIntegerField(
        _("contacts per week on all channels"), null=True, blank=True
    )
    # e.g. {"sms": true, "wechat": true, "call": true}; a channel missing is enabled.
    channels_enabled = models.JSONField(_("channels enabled"), default=dict, blank=True)
    default_language = models.CharField(
        _("default language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policies")
        ordering = ["estate_id"]

    def __str__(self) -> str:
        return f"{self.estate}: {self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"

    def channel_enabled(self, channel: str) -> bool:
        return bool(self.channels_enabled.get(channel, True))


class ChannelOptOut(models.Model):
    """A party's refusal of a channel (a reply "TD", a call to the hotline, a letter), with when
    and where it came from. Revoked (not deleted) when the party opts in again."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="channel_opt_outs")
    channel = models.CharField(_("channel"), max_length=10)
    at = models.DateTimeField(_("opted out at"))
    source = models.CharField(_("source"), max_length=50)
    note = models.CharField(_("note"), max_length=255, blank=True)
    revoked_at = models.DateTimeField(_("opted in again at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel opt-out")
        verbose_name_plural = _("channel opt-outs")
        ordering = ["party_id", "channel", "-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "channel"],
                condition=Q(revoked_at__isnull=True),
                name="notify_optout_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} {self.channel}"


class ChannelConsent(models.Model):
    """A party's word on a channel: consent given (`given`) or withdrawn, when (`at`), where
    it was recorded (`source`: the window, the portal...) and how it was given (`method`:
    a signed form, in person, ticked online...). The newest row per party and channel is the
    party's current word, copied to `Party.consents`, which the contact policy reads."""

    class Source(models.TextChoices):
        WINDOW = "window", _("Cashier window")
        SERVICE_DESK = "service_desk", _("Service desk")
        PORTAL = "portal", _("Owner portal")
        PHONE = "phone", _("Hotline")
        VISIT = "visit", _("Home visit")
        IMPORT = "import", _("Import")

    class Method(models.TextChoices):
        SIGNED_FORM = "signed_form", _("Signed form")
        IN_PERSON = "in_person", _("Said in person")
        RECORDED_CALL = "recorded_call", _("Recorded phone call")
        ONLINE = "online", _("Ticked online by the owner")
        SMS_REPLY = "sms_reply", _("SMS reply")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="channel_consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    given = models.BooleanField(_("consent given"))
    at = models.DateTimeField(_("given at"))
    source = models.CharField(_("recorded at"), max_length=20, choices=Source.choices)
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel consent")
        verbose_name_plural = _("channel consents")
        ordering = ["party_id", "channel", "-at", "-id"]
        indexes = [models.Index(fields=["party", "channel", "at"], name="notify_consent_party_idx")]

    def __str__(self) -> str:
        return f"{self.party} {self.channel} {'+' if self.given else '-'}"


class ContactMark(models.Model):
    """A contact made outside the outbox (a call, a visit) that counts against the weekly cap.
    Collection writes one per logged contact through `contact_mark`."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10)
    at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=80)

    class Meta:
        verbose_name = _("contact mark")
        verbose_name_plural = _("contact marks")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source"], name="notify_contactmark_source_unique"),
        ]
        indexes = [models.Index(fields=["party", "channel", "at"], name="notify_mark_party_idx")]

    def __str__(self) -> str:
        return f"{self.party} {self.channel} {self.at:%Y-%m-%d %H:%M}"


class Campaign(models.Model):
    """A period's bill notices to every party of an estate, with its progress and counts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=20)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.BILL_NOTICE
    )
    template_code = models.CharField(_("template"), max_length=50, default="bill_notice")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("parties"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    # {"sms": {"queued": 3, "suppressed": 1}, "letter": {"queued": 2}, "none": {"skipped": 1}}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice campaign")
        verbose_name_plural = _("notice campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "period", "purpose"], name="notify_campaign_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.estate} {self.period} {self.get_purpose_display()}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.processed * 100 / self.total)


class LetterBatch(models.Model):
    """A print batch: one PDF with one page per letter, handed to the post room."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("PDF"), upload_to="letters/")
    letters = models.PositiveIntegerField(_("letters"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("letter batch")
        verbose_name_plural = _("letter batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.estate} {self.created_at:%Y-%m-%d} ({self.letters})"


MASK = "******"


class Message(models.Model):
    """One message to one party on one channel: the outbox row, from queued to delivered."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")

    # Allowed transitions. A suppressed message with a `not_before` (quiet hours, weekly cap)
    # goes out again when that time comes; one without (no consent, no address) stays.
    TRANSITIONS = {
        "queued": {"sending", "suppressed", "failed"},
        "suppressed": {"sending", "suppressed", "queued"},
        "sending": {"sent", "delivered", "queued", "failed"},
        "sent": {"delivered", "failed"},
        "failed": {"queued"},  # a resend by staff
        "delivered": set(),
    }

    # No database FOREIGN KEYs on messages (as on billing.Charge): campaigns and dunning runs
    # write them a few hundred thousand at a time, and PostgreSQL queues a deferred trigger
    # event per inserted row and FOREIGN KEY -- six here, NULL or not -- and checks each at
    # commit. Writers take the ids from objects or joins they have; the ORM's PROTECT still
    # guards deletes.
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="messages",
        db_constraint=False,
        db_index=False,  # notify_msg_cap_idx (party, channel, contacted_at) serves it
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_constraint=False,
    )
    template_code = models.CharField(_("template"), max_length=50, blank=True)
    template_version = models.PositiveIntegerField(_("template version"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    # The named values the text was rendered from; providers with pre-approved templates
    # (SMS, WeChat) send these as template parameters.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Names of the values only the party may read (a one-time code). Staff never see them
    # (`staff_text`, `staff_params`); once the message is delivered or given up they are
    # erased from the text and the parameters (`message_seal`).
    secret_keys = models.JSONField(_("secret values"), default=list, blank=True)
    # The address used (phone, openid, e-mail, postal address), copied at queue time.
    address = models.CharField(_("address"), max_length=255, blank=True)
    status = models.CharField(
        # no index of its own: notify_msg_due_idx (status, not_before) serves it
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.QUEUED,
    )
    suppressed_reason = models.CharField(_("suppressed because"), max_length=40, blank=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # unique by `notify_message_dedupe_key_unique` (a plain unique index; `unique=True` would
    # add a second, pattern-matching index on PostgreSQL that nothing uses)
    dedupe_key = models.CharField(_("dedupe key"), max_length=150, null=True, blank=True)
    fallback_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fallbacks",
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_constraint=False,
    )
    letter_batch = models.ForeignKey(
        LetterBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_constraint=False,
    )
    tracking_number = models.CharField(_("registered mail number"), max_length=40, blank=True)
    # A letter whose document the queuing app prints itself (a formal demand's signed-off PDF,
    # printed from the demand page): the letter run leaves it out, so the owner never gets a
    # second, template-made letter for the same demand. Tracking and delivery still live here.
    printed_apart = models.BooleanField(_("printed from its own document"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    contacted_at = models.DateTimeField(_("contacted"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notify_message_dedupe_key_unique"),
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="notify_message_provider_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="notify_msg_due_idx"),
            models.Index(fields=["party", "channel", "contacted_at"], name="notify_msg_cap_idx"),
        ]
        permissions = [
            ("resend_message", "Can resend a message"),
            ("send_campaign", "Can send a notice campaign"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.channel} {self.party} {self.status}"

    @property
    def is_deferred(self) -> bool:
        """Held back until `not_before` (quiet hours, a weekly cap): it will go out then."""
        return self.status == self.Status.SUPPRESSED and self.not_before is not None

    @property
    def status_label(self) -> str:
        """What staff read: a message waiting for the end of quiet hours is deferred, not
        blocked."""
        return _("Deferred") if self.is_deferred else self.get_status_display()

    @property
    def suppressed_reason_label(self) -> str:
        from .policy import REASONS

        return str(REASONS.get(self.suppressed_reason, self.suppressed_reason))

    @property
    def is_secret(self) -> bool:
        return bool(self.secret_keys)

    def mask(self, value: str) -> str:
        """`value` with every secret value of this message replaced by MASK."""
        for key in self.secret_keys:
            secret = str((self.params or {}).get(key) or "")
            if secret and secret != MASK:
                value = value.replace(secret, MASK)
        return value

    @property
    def staff_text(self) -> str:
        return self.mask(self.text)

    @property
    def staff_subject(self) -> str:
        return self.mask(self.subject)

    @property
    def staff_last_error(self) -> str:
        return self.mask(self.last_error)

    @property
    def staff_params(self) -> dict:
        return {k: (MASK if k in self.secret_keys else v) for k, v in (self.params or {}).items()}

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())


class DeliveryReceipt(models.Model):
    """A delivery report from a provider, kept as received. UNIQUE (provider, event) so that a
    provider that pushes the same report twice changes nothing the second time."""

    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event"), max_length=150)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    delivered = models.BooleanField(_("delivered"))
    detail = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery receipt")
        verbose_name_plural = _("delivery receipts")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="notify_receipt_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
