"""Dunning policies (催收策略): per estate, ordered stages by days overdue, each with actions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.roles import ROLES
from wuye.registry.models import Estate

from .choices import ActionKind, Reason

ROLE_CHOICES = [(role, role) for role in ROLES]


class DunningPolicy(models.Model):
    """How one estate chases arrears. One per estate; the default is DESIGN.md §5's four
    stages (`services.policies.policy_default`)."""

    estate = models.OneToOneField(Estate, on_delete=models.PROTECT, related_name="dunning_policy")
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate after days without progress"),
        default=21,
        help_text=_(
            "A case with no contact, promise or payment for this long goes to a supervisor."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("dunning policy")
        verbose_name_plural = _("dunning policies")
        ordering = ["estate_id"]
        permissions = [("run_dunning", "Can start a dunning run")]

    def __str__(self) -> str:
        return self.name


class DunningStage(models.Model):
    """One step of a policy: from `min_days` overdue on, its actions, repeated every
    `repeat_days` (0 = once per stage), tasks for `assignee_role`."""

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="stages")
    number = models.PositiveSmallIntegerField(_("stage"))
    name = models.CharField(_("name"), max_length=50)
    min_days = models.PositiveSmallIntegerField(_("from days overdue"))
    repeat_days = models.PositiveSmallIntegerField(
        _("repeat every (days)"), default=0, help_text=_("0: the actions run once per stage.")
    )
    assignee_role = models.CharField(
        _("assignee role"), max_length=32, choices=ROLE_CHOICES, default="collector"
    )
    needs_approval = models.BooleanField(
        _("needs a supervisor's approval"),
        default=False,
        help_text=_("A case enters this stage only when a supervisor approves (legal action)."),
    )
    needs_reason = models.CharField(
        _("only for reason"),
        max_length=12,
        choices=Reason.choices,
        blank=True,
        help_text=_("Empty: every case; otherwise only cases with this reason reach the stage."),
    )

    class Meta:
        verbose_name = _("dunning stage")
        verbose_name_plural = _("dunning stages")
        ordering = ["policy_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="dunningstage_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="dunningstage_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class StageAction(models.Model):
    """One thing a stage does: a message on a channel with a template, or a task for a role
    (call, booked visit, formal demand, the owners' committee, a legal review)."""

    stage = models.ForeignKey(DunningStage, on_delete=models.CASCADE, related_name="actions")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    kind = models.CharField(_("action"), max_length=16, choices=ActionKind.choices)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        blank=True,
        help_text=_("For messages: empty sends on the owner's best channel."),
    )
    template_code = models.CharField(_("template"), max_length=50, blank=True)
    task_role = models.CharField(
        _("task for role"), max_length=32, choices=ROLE_CHOICES, blank=True
    )

    class Meta:
        verbose_name = _("stage action")
        verbose_name_plural = _("stage actions")
        ordering = ["stage_id", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActionKind.values), name="stageaction_kind_lawful"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class CallScript(models.Model):
    """A call script (话术) for a stage and reason, editable per estate; also the training
    material for new collectors. Empathy first, the facts, what the fee pays for, the options."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    stage_number = models.PositiveSmallIntegerField(_("stage"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    title = models.CharField(_("title"), max_length=100)
    empathy = models.TextField(_("opening (empathy)"))
    facts = models.TextField(_("the facts"))
    purpose = models.TextField(_("what the fee pays for"))
    options = models.TextField(_("the options"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")
        ordering = ["estate_id", "stage_number", "reason", "id"]

    def __str__(self) -> str:
        return self.title
