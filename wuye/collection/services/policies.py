"""Dunning policies: the default of DESIGN.md §5, and edits by a supervisor.

Stage figures (days, repeats, roles) are configurable per estate; the action kinds are a
closed list (`ActionKind`) with no utility cut-off, access restriction or public naming."""

from django.db import transaction
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.core.errors import DomainError
from wuye.core.roles import ROLES
from wuye.notifications.models import Channel
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


def _check_action(kind: str, channel: str, template_code: str, task_role: str = "") -> None:
    if kind not in ActionKind.values:
        # The closed list is the guardrail (Civil Code art. 944; no access restriction, no
        # public naming): anything else is refused, whatever a form or the API sends.
        raise DomainError(
            _("%(kind)s is not an action a stage may take") % {"kind": repr(kind)}, field="kind"
        )
    if kind in (ActionKind.MESSAGE, ActionKind.FORMAL_DEMAND) and not template_code:
        raise DomainError(_("a message needs a template"), field="template_code")
    if channel and channel not in Channel.values:
        raise DomainError(
            _("%(channel)s is not a message channel") % {"channel": repr(channel)},
            field="channel",
        )
    if task_role and task_role not in ROLES:
        raise DomainError(
            _("%(role)s is not a role") % {"role": repr(task_role)}, field="task_role"
        )


def _whole(value, field: str, *, default: int | None = None) -> int:
    """A whole number of days from a form or the API, or a DomainError on the field."""
    if value in (None, "") and default is not None:
        return default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(
            _("%(value)s is not a whole number of days") % {"value": value}, field=field
        ) from None
    if number < 0 or number > 3650:
        raise DomainError(_("give a number of days from 0 to 3650"), field=field)
    return number


def _at(prefix: str, exc: DomainError) -> DomainError:
    """The same error, its field named by where it is: `stages.2.min_days`,
    `stages.2.actions.1.kind` (forms show it on that input; the API returns it)."""
    exc.field = f"{prefix}.{exc.field}" if exc.field else prefix
    return exc


def _clean_stages(stages: list[dict]) -> list[dict]:
    """Validate the stages as a whole; return them with whole numbers."""
    if not stages:
        raise DomainError(_("a policy needs at least one stage"), field="stages")
    cleaned = []
    last_days = -1
    for index, data in enumerate(stages, start=1):
        prefix = f"stages.{index}"
        if int(data.get("number") or index) != index:
            raise DomainError(
                _("stages are numbered 1, 2, 3 ... in order"), field=f"{prefix}.number"
            )
        name = str(data.get("name") or "").strip()
        if not name:
            raise DomainError(_("give the stage a name"), field=f"{prefix}.name")
        try:
            min_days = _whole(data.get("min_days"), "min_days")
            repeat_days = _whole(data.get("repeat_days"), "repeat_days", default=0)
        except DomainError as exc:
            raise _at(prefix, exc) from None
        if min_days <= last_days:
            raise DomainError(
                _("stage %(number)s must start later than the stage before it") % {"number": index},
                field=f"{prefix}.min_days",
            )
        last_days = min_days
        role = data.get("assignee_role") or "collector"
        if role not in ROLES:
            raise DomainError(
                _("%(role)s is not a role") % {"role": repr(role)}, field=f"{prefix}.assignee_role"
            )
        reason = data.get("needs_reason") or ""
        if reason and reason not in Reason.values:
            raise DomainError(
                _("unknown reason %(reason)s") % {"reason": repr(reason)},
                field=f"{prefix}.needs_reason",
            )
        actions = []
        for order, action in enumerate(data.get("actions", []), start=1):
            a = {
                "kind": action.get("kind") or "",
                "channel": action.get("channel") or "",
                "template_code": (action.get("template_code") or "").strip(),
                "task_role": action.get("task_role") or "",
            }
            try:
                _check_action(a["kind"], a["channel"], a["template_code"], a["task_role"])
            except DomainError as exc:
                raise _at(f"{prefix}.actions.{order}", exc) from None
            actions.append(a)
        cleaned.append(
            {
                "name": name[:50],
                "min_days": min_days,
                "repeat_days": repeat_days,
                "assignee_role": role,
                "needs_approval": bool(data.get("needs_approval")),
                "needs_reason": reason,
                "actions": actions,
            }
        )
    return cleaned


@transaction.atomic
def policy_update(*, actor, policy: DunningPolicy, stages: list[dict], **fields) -> DunningPolicy:
    """Replace the policy's stages and actions (a supervisor's edit), validated as a whole:
    nothing is written unless every stage and action is valid. An error names its input:
    `stages.<n>.<field>` or `stages.<n>.actions.<m>.<field>` (1-based).

    `stages`: [{"number", "name", "min_days", "repeat_days", "assignee_role",
    "needs_approval", "needs_reason", "actions": [{"kind", "channel", "template_code",
    "task_role"}]}], in order of days. Cases keep their stage number."""
    require_perm(actor, "collection.change_dunningpolicy")
    require_estate(actor, policy.estate_id)
    policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_snapshot(policy)
    cleaned = _clean_stages(stages)
    if "name" in fields and not str(fields["name"]).strip():
        raise DomainError(_("give the policy a name"), field="name")
    if "escalate_after_days" in fields:
        fields["escalate_after_days"] = _whole(fields["escalate_after_days"], "escalate_after_days")
    for name in ("name", "is_active", "escalate_after_days"):
        if name in fields:
            setattr(policy, name, fields[name])
    policy.updated_by = actor if getattr(actor, "pk", None) else None
    policy.save()
    policy.stages.all().delete()
    for index, data in enumerate(cleaned, start=1):
        stage = DunningStage.objects.create(
            policy=policy,
            number=index,
            name=data["name"],
            min_days=data["min_days"],
            repeat_days=data["repeat_days"],
            assignee_role=data["assignee_role"],
            needs_approval=data["needs_approval"],
            needs_reason=data["needs_reason"],
        )
        for order, action in enumerate(data["actions"], start=1):
            StageAction.objects.create(stage=stage, order=order, **action)
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
