"""Arrears cases (催收案件): one open case per party, the charges in it, holds, tasks,
promises to pay and escalations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Charge
from wuye.core.money import MoneyField, format_yuan
from wuye.registry.models import Estate, Party

from .choices import ActionKind, CaseStatus, HoldKind, Reason
from .policy import ROLE_CHOICES, DunningStage


class ArrearsCase(models.Model):
    """What one party owes overdue and how the company is chasing it.

    The dunning run opens it for a party with overdue charges and moves it through the
    policy's stages; it closes only when every charge in it is settled. At most one case per
    party is not closed (`arrearscase_one_open_per_party`). `amount` and `oldest_due_date` are
    the run's figures (overdue, net of prepayments and unallocated money); the case page
    recomputes them from the charges.

    No database FOREIGN KEYs on cases, tasks and case charges (as on billing.Charge): the
    dunning run writes them a few hundred thousand at a time, and PostgreSQL queues a
    deferred trigger event per inserted row and FOREIGN KEY -- even a NULL one -- and checks
    each at commit; at W3's million parties that cost more than the whole rest of the run.
    The run takes every id from joins over the tables they point to; the ORM's on_delete
    (PROTECT, CASCADE, SET_NULL) still guards deletes. For the same reason a key column that
    leads a composite index (estate, assignee; a case charge's case; a task's estate and
    assignee) has no index of its own, and nor has a task's `done_by` (looked up only when a
    user is deleted)."""

    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="arrears_cases", db_constraint=False
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    stage = models.ForeignKey(
        DunningStage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    stage_number = models.PositiveSmallIntegerField(_("stage"), default=0)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assignee"),
        db_constraint=False,
        db_index=False,
    )
    amount = MoneyField(_("overdue amount"), default=0)
    oldest_due_date = models.DateField(_("oldest due date"), null=True, blank=True)
    opened_on = models.DateField(_("opened"))
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    next_action_date = models.DateField(_("next action"), null=True, blank=True)
    stage_entered_on = models.DateField(_("stage since"), null=True, blank=True)
    actions_on = models.DateField(
        _("stage actions last emitted"), null=True, blank=True, help_text=_("For repeats.")
    )
    last_run_on = models.DateField(_("last dunning run"), null=True, blank=True)
    last_progress_on = models.DateField(_("last progress"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    broken_promises = models.PositiveSmallIntegerField(_("broken promises"), default=0)
    approved_stage = models.PositiveSmallIntegerField(
        _("approved up to stage"),
        default=0,
        help_text=_("Stages that need a supervisor's approval are entered up to this one."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("arrears case")
        verbose_name_plural = _("arrears cases")
        ordering = ["-amount", "id"]
        permissions = [
            ("mark_malicious", "Can mark a case as malicious non-payment"),
            ("work_escalations", "Can take escalated cases"),
            ("approve_stage", "Can approve a stage that needs approval"),
            ("export_arrears", "Can export the arrears list"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["party"],
                condition=~Q(status="closed"),
                name="arrearscase_one_open_per_party",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="arrearscase_amount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["estate", "status"], name="arrearscase_estate_idx"),
            models.Index(fields=["assignee", "status"], name="arrearscase_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.party_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class CaseCharge(models.Model):
    """A charge in a case. The case closes only when every one of them is settled."""

    # No database FOREIGN KEYs, as charges have none (billing.Charge): a run adds many at
    # once (see ArrearsCase).
    case = models.ForeignKey(
        ArrearsCase,
        on_delete=models.CASCADE,
        related_name="case_charges",
        db_constraint=False,
        db_index=False,
    )
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    added_on = models.DateField(_("added"))

    class Meta:
        verbose_name = _("charge in a case")
        verbose_name_plural = _("charges in cases")
        ordering = ["case_id", "charge_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "charge"], name="casecharge_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.charge_id}"


class Hold(models.Model):
    """Something that pauses dunning: an open dispute, an active installment plan, a promise
    not yet due, a legal case, or a manual hold (always with a reason and an expiry).

    Active while not released and (no expiry or expiry not passed). Other issues' records
    (a dispute, a plan) create their hold with `source` = `app.model:id` and release it."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        ArrearsCase, null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HoldKind.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    amount = MoneyField(_("amount on hold"), null=True, blank=True)
    starts_on = models.DateField(_("from"))
    expires_on = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="manual") | (~Q(reason="") & Q(expires_on__isnull=False)),
                name="hold_manual_reason_expiry",
            ),
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="hold_source_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["party"], condition=Q(released_at__isnull=True), name="hold_active_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.party_id}"

    def is_active_on(self, day) -> bool:
        return (
            self.released_at is None
            and self.starts_on <= day
            and (self.expires_on is None or self.expires_on >= day)
        )


class Task(models.Model):
    """Work for a person: a call, a booked visit, a formal demand to issue, a question to the
    owners' committee, a legal review, or a follow-up (a broken promise, an escalation)."""

    class Kind(models.TextChoices):
        CALL = ActionKind.CALL.value, ActionKind.CALL.label
        VISIT = ActionKind.VISIT.value, ActionKind.VISIT.label
        FORMAL_DEMAND = ActionKind.FORMAL_DEMAND.value, ActionKind.FORMAL_DEMAND.label
        COMMITTEE = ActionKind.COMMITTEE.value, ActionKind.COMMITTEE.label
        LEGAL_REVIEW = ActionKind.LEGAL_REVIEW.value, ActionKind.LEGAL_REVIEW.label
        FOLLOW_UP = "follow_up", _("Follow-up")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    # No database FOREIGN KEYs: a dunning run writes tasks by the hundred thousand (see
    # ArrearsCase).
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    case = models.ForeignKey(
        ArrearsCase, on_delete=models.PROTECT, related_name="tasks", db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    role = models.CharField(_("role"), max_length=32, choices=ROLE_CHOICES, default="collector")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assignee"),
        db_constraint=False,
        db_index=False,
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    stage_number = models.PositiveSmallIntegerField(_("stage"), default=0)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # A note the system writes: {"msgid": a gettext_noop message, "args": {...}}, translated
    # when shown (`note_text`), so each reader sees it in their language; "amount" in the
    # args is shown as money (1,234.50). `note` holds what people typed.
    note_i18n = models.JSONField(default=dict, blank=True)
    # unique by `task_dedupe_key_unique` (a plain unique index; `unique=True` would add a
    # second, pattern-matching index on PostgreSQL that nothing uses)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="task_dedupe_key_unique"),
        ]
        indexes = [
            models.Index(fields=["estate", "status", "due_on"], name="task_open_idx"),
            models.Index(fields=["assignee", "status"], name="task_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.case_id} {self.due_on}"

    @property
    def note_text(self) -> str:
        """The note in the reader's language: the system's (`note_i18n`), then what people
        wrote (`note`)."""
        parts = []
        if self.note_i18n.get("msgid"):
            args = dict(self.note_i18n.get("args") or {})
            if "amount" in args:
                args["amount"] = format_yuan(args["amount"])
            parts.append(gettext(self.note_i18n["msgid"]) % args)
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)


class PromiseToPay(models.Model):
    """承诺缴费: an amount by a date. Kept (paid by then) closes the follow-up; broken creates
    a task and moves the case on. While pending it holds the case (`Hold` kind promise)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="promises")
    amount = MoneyField(_("amount"))
    due_on = models.DateField(_("pay by"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # What the case owed when the promise was made: kept when it has fallen by `amount`.
    owed_at_promise = MoneyField(_("owed when promised"), default=0)
    contact = models.ForeignKey(
        "collection.ContactLog",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promises",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_on = models.DateField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-due_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.due_on}"


class Escalation(models.Model):
    """A case handed to a supervisor: by a collector with a note (a heated conversation), or
    by itself after the policy's days without progress. The supervisor's queue lists them."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("By a collector")
        AUTOMATIC = "automatic", _("No progress")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        TAKEN = "taken", _("Taken")
        RESOLVED = "resolved", _("Resolved")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="escalations")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=~Q(status="resolved"), name="escalation_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.kind} {self.status}"
