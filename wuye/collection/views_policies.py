"""Dunning policies (催收策略) and call scripts (话术), issue 14 §2 and §5.

A policy page shows the estate's stages in order; a supervisor edits them on the same page
(days overdue, repeat interval, who works it, approval, reason; each stage's actions from the
closed list `ActionKind`) and `services.policies.policy_update` validates the whole and
audits it. An error is shown on the input it names (`stages.2.min_days`). There is no action
that cuts utilities, restricts access or publishes names: the form offers none and the
service refuses a forged one. Call scripts are edited per estate by stage and reason
(`script_save`); the training page shows every active script to read before the first call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.params import query_int
from wuye.core.roles import ROLE_LABELS, ROLES
from wuye.notifications.models import Channel, MessageTemplate
from wuye.registry.selectors import estates_for, get_scoped

from . import page_selectors as ps
from .models import ActionKind, DunningPolicy, Reason
from .services import policies
from .views_cases import _int

# A blank stage and a blank action row are offered for adding one; rows left blank are skipped.
EXTRA_ACTIONS = 1


def _choices() -> dict:
    return {
        "kinds": ActionKind.choices,
        "channels": Channel.choices,
        "roles": [(r, ROLE_LABELS.get(r, r)) for r in ROLES],
        "reasons": Reason.choices,
        "template_codes": sorted(
            set(MessageTemplate.objects.filter(is_active=True).values_list("code", flat=True))
        ),
    }


@login_required
@permission_required("collection.view_dunningpolicy", raise_exception=True)
def policy_list(request):
    if request.method == "POST":
        estate = get_scoped(
            estates_for(request.user), request.user, "id", pk=_int(request.POST.get("estate"))
        )
        if not request.user.has_perm("collection.change_dunningpolicy"):
            raise PermissionDenied(_("only a supervisor may set up a policy"))
        policy = policies.policy_default(estate=estate, actor=request.user)
        messages.success(request, _("The default policy is set up; adjust it here."))
        return redirect(reverse("collection:policy", args=[policy.pk]))
    items = list(ps.policies_of(request.user))
    have = {p.estate_id for p in items}
    return render(
        request,
        "collection/policy_list.html",
        {
            "policies": items,
            "without": [e for e in estates_for(request.user) if e.pk not in have],
        },
    )


def _stages_of(policy: DunningPolicy) -> list[dict]:
    return [
        {
            "name": s.name,
            "min_days": s.min_days,
            "repeat_days": s.repeat_days,
            "assignee_role": s.assignee_role,
            "needs_approval": s.needs_approval,
            "needs_reason": s.needs_reason,
            "actions": [
                {
                    "kind": a.kind,
                    "channel": a.channel,
                    "template_code": a.template_code,
                    "task_role": a.task_role,
                }
                for a in s.actions.all()
            ],
        }
        for s in policy.stages.prefetch_related("actions").order_by("number")
    ]


def _posted_stages(post) -> list[dict]:
    """The stages as the form sent them, in row order; blank rows and rows marked for
    removal left out."""
    stages = []
    count = min(_int(post.get("stage_count")) or 0, 30)
    for i in range(count):
        p = f"s{i}-"
        if post.get(p + "delete"):
            continue
        name, days = post.get(p + "name", "").strip(), post.get(p + "min_days", "").strip()
        if not name and not days:
            continue
        actions = []
        for j in range(min(_int(post.get(p + "action_count")) or 0, 20)):
            q = f"{p}a{j}-"
            if post.get(q + "delete") or not post.get(q + "kind"):
                continue
            actions.append(
                {
                    "kind": post.get(q + "kind", ""),
                    "channel": post.get(q + "channel", ""),
                    "template_code": post.get(q + "template_code", ""),
                    "task_role": post.get(q + "task_role", ""),
                }
            )
        stages.append(
            {
                "name": name,
                "min_days": days,
                "repeat_days": post.get(p + "repeat_days", ""),
                "assignee_role": post.get(p + "assignee_role", ""),
                "needs_approval": bool(post.get(p + "needs_approval")),
                "needs_reason": post.get(p + "needs_reason", ""),
                "actions": actions,
            }
        )
    return stages


def _place_error(exc: DomainError, stages: list[dict], errors: dict) -> None:
    """Put the service's error on the input it names: `stages.2.actions.1.kind`."""
    parts = (exc.field or "").split(".")
    if parts[0] == "stages" and len(parts) >= 3 and parts[1].isdigit():
        index = int(parts[1]) - 1
        if 0 <= index < len(stages):
            stage = stages[index]
            if parts[2] == "actions" and len(parts) == 5 and parts[3].isdigit():
                actions = stage["actions"]
                order = int(parts[3]) - 1
                if 0 <= order < len(actions):
                    actions[order].setdefault("errors", {})[parts[4]] = exc.message
                    return
            else:
                stage.setdefault("errors", {})[parts[2]] = exc.message
                return
    errors[parts[0] or "all"] = exc.message


@login_required
@permission_required("collection.view_dunningpolicy", raise_exception=True)
def policy_edit(request, pk: int):
    policy = get_scoped(ps.policies_of(request.user), request.user, pk=pk)
    can_edit = request.user.has_perm("collection.change_dunningpolicy")
    errors: dict[str, str] = {}
    refused = False
    head = {
        "name": policy.name,
        "is_active": policy.is_active,
        "escalate_after_days": policy.escalate_after_days,
    }
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("only a supervisor may change the policy"))
        stages = _posted_stages(request.POST)
        head = {
            "name": request.POST.get("name", ""),
            "is_active": bool(request.POST.get("is_active")),
            "escalate_after_days": request.POST.get("escalate_after_days", ""),
        }
        try:
            policies.policy_update(actor=request.user, policy=policy, stages=stages, **head)
        except DomainError as exc:
            refused = True
            _place_error(exc, stages, errors)
            messages.error(request, _("The policy was not saved: %(why)s") % {"why": exc.message})
        else:
            messages.success(request, _("The policy is saved."))
            return redirect(reverse("collection:policy", args=[policy.pk]))
    else:
        stages = _stages_of(policy)
    if can_edit:
        stages = [*stages, {"actions": [], "blank": True}]
        for stage in stages:
            stage["actions"] = [*stage["actions"], *[{"blank": True}] * EXTRA_ACTIONS]
    return render(
        request,
        "collection/policy.html",
        {
            "policy": policy,
            "head": head,
            "stages": stages,
            "errors": errors,
            "can_edit": can_edit,
            **_choices(),
        },
        status=400 if refused else 200,
    )


# --- call scripts ----------------------------------------------------------------------------


@login_required
@permission_required("collection.view_callscript", raise_exception=True)
def script_list(request):
    estates, estate = ps.page_estate(request.user, request.GET.get("estate"))
    scripts = ps.scripts_of(request.user, estate_id=estate.pk if estate else -1)
    stage = request.GET.get("stage", "")
    reason = request.GET.get("reason", "")
    if (number := query_int(request.GET, "stage", maximum=99)) is not None:
        scripts = scripts.filter(Q(stage_number=number) | Q(stage_number__isnull=True))
    if reason in Reason.values:
        scripts = scripts.filter(Q(reason=reason) | Q(reason=""))
    return render(
        request,
        "collection/script_list.html",
        {
            "scripts": scripts,
            "estates": estates,
            "estate": estate,
            "stages": ps.stage_numbers(estate),
            "reasons": Reason.choices,
            "stage": stage,
            "reason": reason,
        },
    )


SCRIPT_FIELDS = ("title", "empathy", "facts", "purpose", "options")


@login_required
@permission_required("collection.view_callscript", raise_exception=True)
def script_edit(request, pk: int | None = None):
    if pk is None:
        estates, estate = ps.page_estate(request.user, request.GET.get("estate"))
        if estate is None:
            raise Http404(_("no estate"))
        script = None
    else:
        script = get_scoped(ps.scripts_of(request.user), request.user, pk=pk)
        estate = script.estate
    can_edit = request.user.has_perm("collection.change_callscript")
    errors: dict[str, str] = {}
    values = {
        name: getattr(script, name) if script else ""
        for name in (*SCRIPT_FIELDS, "stage_number", "reason", "is_active")
    }
    if script is None:
        values["is_active"] = True
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("only a supervisor may edit call scripts"))
        p = request.POST
        stage = p.get("stage_number", "").strip()
        values = {
            **{name: p.get(name, "") for name in SCRIPT_FIELDS},
            "stage_number": _int(stage),
            "reason": p.get("reason", "") if p.get("reason", "") in Reason.values else "",
            "is_active": bool(p.get("is_active")),
        }
        try:
            saved = policies.script_save(actor=request.user, estate=estate, script=script, **values)
        except DomainError as exc:
            errors[exc.field or "all"] = exc.message
        else:
            messages.success(request, _("The call script is saved."))
            return redirect(reverse("collection:script", args=[saved.pk]))
    return render(
        request,
        "collection/script.html",
        {
            "script": script,
            "estate": estate,
            "values": values,
            "errors": errors,
            "can_edit": can_edit,
            "stages": ps.stage_numbers(estate),
            "reasons": Reason.choices,
        },
        status=400 if errors else 200,
    )


@login_required
@permission_required("collection.view_callscript", raise_exception=True)
def scripts_training(request):
    """Every active script of the estate, by stage, to read before the first call."""
    estates, estate = ps.page_estate(request.user, request.GET.get("estate"))
    scripts = list(
        ps.scripts_of(request.user, estate_id=estate.pk if estate else -1, active_only=True)
    )
    names = dict(ps.stage_numbers(estate))
    for script in scripts:
        script.stage_name = names.get(script.stage_number, "")
    return render(
        request,
        "collection/scripts_training.html",
        {"scripts": scripts, "estates": estates, "estate": estate},
    )
