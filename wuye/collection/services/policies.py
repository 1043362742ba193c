"""Dunning policies: the default of DESIGN.md §5, and edits by a supervisor.

Stage figures (days, repeats, roles) are configurable per estate; the action kinds are a
closed list (`ActionKind`) with no utility cut-off, access restriction or public naming."""

from django.db import transaction
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.core.errors import DomainError
from wuye.registry.models import Estate
from wuye.registry.services import require_estate, require_perm

from ..models import ActionKind, CallScript, DunningPolicy, DunningStage, Reason, StageAction

# (number, name, min_days, repeat_days, role, needs_approval, needs_reason, actions)
# actions: (kind, channel, template, task_role)
DEFAULT_STAGES = [
    (1, "温馨提示", 1, 7, "collector", False, "", [("message", "", "reminder_friendly", "")]),
    (
        2,
        "沟通",
        15,
        7,
        "collector",
        False,
        "",
        [("message", "", "reminder_firm", ""), ("call", "", "", "collector")],
    ),
    (
        3,
        "正式催缴",
        31,
        30,
        "collector",
        False,
        "",
        [
            ("formal_demand", "letter", "reminder_formal", "collector"),
            ("call", "", "", "collector"),
        ],
    ),
    (
        4,
        "法律途径",
        91,
        0,
        "supervisor",
        True,
        Reason.MALICIOUS,
        [("legal_review", "", "", "supervisor")],
    ),
]


@transaction.atomic
def policy_default(*, estate: Estate, actor=None) -> DunningPolicy:
    """The estate's policy, created with DESIGN.md §5's four stages if it has none.
    Idempotent: an existing policy is returned unchanged."""
    actor = actor or SYSTEM
    existing = DunningPolicy.objects.filter(estate=estate).first()
    if existing is not None:
        return existing
    policy = DunningPolicy.objects.create(
        estate=estate, name=_("Default policy"), updated_by=actor if actor.pk else None
    )
    for number, name, min_days, repeat, role, approval, reason, actions in DEFAULT_STAGES:
        stage = DunningStage.objects.create(
            policy=policy,
            number=number,
            name=name,
            min_days=min_days,
            repeat_days=repeat,
            assignee_role=role,
            needs_approval=approval,
            needs_reason=reason,
        )
        for order, (kind, channel, template, task_role) in enumerate(actions, start=1):
            StageAction.objects.create(
                stage=stage,
                order=order,
                kind=kind,
                channel=channel,
                template_code=template,
                task_role=task_role,
            )
    audit_record(actor=actor, action="collection.policy_create", subject=policy)
    return policy


def _check_action(kind: str, channel: str, template_code: str) -> None:
    if kind not in ActionKind.values:
        # The closed list is the guardrail (Civil Code art. 944; no access restriction, no
        # public naming): anything else is refused, whatever a form or the API sends.
        raise DomainError(
            _("%(kind)s is not an action a stage may take") % {"kind": repr(kind)}, field="kind"
        )
    if kind in (ActionKind.MESSAGE, ActionKind.FORMAL_DEMAND) and not template_code:
        raise DomainError(_("a message needs a template"), field="template_code")


@transaction.atomic
def policy_update(*, actor, policy: DunningPolicy, stages: list[dict], **fields) -> DunningPolicy:
    """Replace the policy's stages and actions (a supervisor's edit), validated as a whole.

    `stages`: [{"number", "name", "min_days", "repeat_days", "assignee_role",
    "needs_approval", "needs_reason", "actions": [{"kind", "channel", "template_code",
    "task_role"}]}], in order of days. Cases keep their stage number."""
    require_perm(actor, "collection.change_dunningpolicy")
    require_estate(actor, policy.estate_id)
    policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_snapshot(policy)
    if not stages:
        raise DomainError(_("a policy needs at least one stage"), field="stages")
    last_days = -1
    for index, data in enumerate(stages, start=1):
        if int(data.get("number", index)) != index:
            raise DomainError(_("stages are numbered 1, 2, 3 ... in order"), field="stages")
        if int(data["min_days"]) <= last_days:
            raise DomainError(
                _("stage %(number)s must start later than the stage before it") % {"number": index},
                field="min_days",
            )
        last_days = int(data["min_days"])
        for action in data.get("actions", []):
            _check_action(
                action.get("kind", ""), action.get("channel", ""), action.get("template_code", "")
            )
    for name in ("name", "is_active", "escalate_after_days"):
        if name in fields:
            setattr(policy, name, fields[name])
    policy.updated_by = actor if getattr(actor, "pk", None) else None
    policy.save()
    policy.stages.all().delete()
    for index, data in enumerate(stages, start=1):
        stage = DunningStage.objects.create(
            policy=policy,
            number=index,
            name=data["name"],
            min_days=int(data["min_days"]),
            repeat_days=int(data.get("repeat_days") or 0),
            assignee_role=data.get("assignee_role") or "collector",
            needs_approval=bool(data.get("needs_approval")),
            needs_reason=data.get("needs_reason") or "",
        )
        for order, action in enumerate(data.get("actions", []), start=1):
            StageAction.objects.create(
                stage=stage,
                order=order,
                kind=action["kind"],
                channel=action.get("channel") or "",
                template_code=action.get("template_code") or "",
                task_role=action.get("task_role") or "",
            )
    audit_record(
        actor=actor,
        action="collection.policy_update",
        subject=policy,
        before=before,
        after=_policy_snapshot(policy),
    )
    return policy


def _policy_snapshot(policy: DunningPolicy) -> dict:
    return {
        "name": policy.name,
        "is_active": policy.is_active,
        "escalate_after_days": policy.escalate_after_days,
        "stages": [
            {
                "number": s.number,
                "name": s.name,
                "min_days": s.min_days,
                "repeat_days": s.repeat_days,
                "assignee_role": s.assignee_role,
                "needs_approval": s.needs_approval,
                "needs_reason": s.needs_reason,
                "actions": [
                    [a.kind, a.channel, a.template_code, a.task_role] for a in s.actions.all()
                ],
            }
            for s in policy.stages.prefetch_related("actions")
        ],
    }


@transaction.atomic
def script_save(*, actor, estate: Estate, script: CallScript | None = None, **fields) -> CallScript:
    """Create or edit a call script (话术) of an estate."""
    require_perm(actor, "collection.change_callscript")
    require_estate(actor, estate.pk)
    for name in ("title", "empathy", "facts", "purpose", "options"):
        if name in fields and not str(fields[name]).strip():
            raise DomainError(_("this field is required"), field=name)
    before = None
    if script is None:
        script = CallScript(estate=estate)
    else:
        before = {k: getattr(script, k) for k in fields}
    for name, value in fields.items():
        setattr(script, name, value)
    script.updated_by = actor if getattr(actor, "pk", None) else None
    script.save()
    audit_record(
        actor=actor,
        action="collection.script_save",
        subject=script,
        before=before,
        after={k: getattr(script, k) for k in fields},
    )
    return script
