"""The collector's workbench (工作台, issue 14 §5, §7-§9): my tasks for today in priority
order, the call/visit panel of a case (the call script beside the form), the reason form
(malicious is a supervisor's), escalation to a supervisor and the supervisor's queue.

Views parse and authorise, then call one service (`services.workbench`, `services.cases`);
reads are `workbench_selectors`."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import FEN, plain_decimal
from wuye.core.normalize import as_date, as_id
from wuye.registry.selectors import get_scoped
from wuye.registry.services import party_contact_view

from . import workbench_selectors as wsel
from .models import ContactAttachment, Escalation, Reason, Task
from .selectors import cases_for, tasks_for
from .services.cases import case_set_reason, escalation_raise, escalation_resolve, escalation_take
from .services.contacts import Attachment
from .services.workbench import WORKBENCH_CHANNELS, WORKBENCH_OUTCOMES, contact_log_case

MAX_AMOUNT = Decimal("999999999.99")  # as `payments._common.money_in`
ATTACHMENT_FIELDS = [
    ("recording", ContactAttachment.Kind.RECORDING),
    ("photo", ContactAttachment.Kind.PHOTO),
    ("receipt", ContactAttachment.Kind.RECEIPT),
]


def case_url(case) -> str:
    """The case page (collection:case) where it is installed, else the case's ways out."""
    try:
        return reverse("collection:case", args=[case.pk])
    except NoReverseMatch:
        return reverse("resolution:case", args=[case.pk])


def _date(value, field: str) -> date | None:
    if not value:
        return None
    parsed = as_date(value)  # 2026-02-30 is no date, not a 500 (parse_date raises)
    if parsed is None:
        raise DomainError(_("%(value)s is not a date (YYYY-MM-DD)") % {"value": value}, field=field)
    return parsed


def _amount(value, field: str) -> Decimal | None:
    """A positive amount as people type it (1,234.50), read by the project's parser
    (`plain_decimal`: no exponent, NaN or Infinity) with the rules of the window's amounts
    (`payments._common.money_in`): more than 0, at most 2 places, not absurdly large."""
    value = (value or "").strip().replace("，", ",")
    if not value:
        return None
    try:
        amount = plain_decimal(value)
    except ValueError as exc:
        raise DomainError(_("%(value)s is not an amount") % {"value": value}, field=field) from exc
    if amount <= 0:
        raise DomainError(_("the amount must be more than 0"), field=field)
    if amount != amount.quantize(FEN):
        raise DomainError(_("an amount has at most 2 decimal places (fen)"), field=field)
    if amount > MAX_AMOUNT:
        raise DomainError(_("the amount is too large"), field=field)
    return amount.quantize(FEN)


def _can_reveal(request) -> bool:
    """Owners' names in full (else 张*, as on the case pages): roles with `registry.view_pii`."""
    return request.user.has_perm("registry.view_pii")


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- my tasks --------------------------------------------------------------------------------


@login_required
@permission_required("collection.view_task", raise_exception=True)
def home(request):
    today = timezone.localdate()
    rows = wsel.my_tasks(request.user, today=today)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    wsel.with_details(request.user, list(page.object_list), today=today)
    return render(
        request,
        "collection/workbench/home.html",
        {
            "page": page,
            "today": today,
            "due_today": sum(1 for r in rows if not r.overdue),
            "overdue": sum(1 for r in rows if r.overdue),
            "escalations": (
                wsel.escalation_counts(request.user)
                if request.user.has_perm("collection.work_escalations")
                else None
            ),
            "can_reveal": _can_reveal(request),
        },
    )


# --- the call / visit panel ------------------------------------------------------------------


def _panel(request, case, *, task=None, form=None, status: int = 200):
    today = timezone.localdate()
    facts = wsel.case_facts(case, today=today)
    rows = wsel.with_details(
        request.user,
        [wsel.TaskRow(task=task, case=case, priority=None, overdue=False)],
        today=today,
    )
    if form is None:
        form = {"channel": "visit" if task is not None and task.kind == Task.Kind.VISIT else "call"}
    return render(
        request,
        "collection/workbench/panel.html",
        {
            "case": case,
            "task": task,
            "facts": facts,
            "script": wsel.script_for(case),
            "priority": wsel.priority(case, as_of=today),
            "units": rows[0].units,
            "notes": rows[0].notes,
            "contacts": wsel.case_contacts(case),
            "promises": wsel.case_promises(case),
            "holds": wsel.case_holds(case, today=today),
            "open_tasks": wsel.case_open_tasks(case),
            "escalation": wsel.case_open_escalation(case),
            "next_step": wsel.next_step(case.reason),
            "contact": party_contact_view(actor=request.user, party=case.party),
            "can_reveal": _can_reveal(request),
            "case_url": case_url(case),
            "channels": [(c.value, c.label) for c in WORKBENCH_CHANNELS],
            "outcomes": [(o.value, o.label) for o in WORKBENCH_OUTCOMES],
            "reasons": Reason.choices,
            "attachment_fields": ATTACHMENT_FIELDS,
            "form": form,
            "today": today,
        },
        status=status,
    )


@login_required
@permission_required("collection.view_task", raise_exception=True)
def task(request, pk: int):
    item = get_scoped(tasks_for(request.user, status=""), request.user, pk=pk)
    case = get_scoped(cases_for(request.user), request.user, pk=item.case_id)
    return _panel(request, case, task=item)


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def log_contact(request, pk: int):
    """GET: the call panel of a case (without a task); POST: log the call or visit."""
    case = get_scoped(cases_for(request.user), request.user, pk=pk)
    if request.method != "POST":
        return _panel(request, case)
    if not request.user.has_perm("collection.add_contactlog"):
        return _denied(request, _("your role may not log contacts"))
    p = request.POST
    item = None
    if p.get("task"):
        # a task id that is no id (hand-edited form) is not found (404), never a 500
        item = get_scoped(tasks_for(request.user, status=""), request.user, pk=as_id(p["task"]))
    try:
        files = [
            Attachment(kind=kind, name=f.name, content=f.read())
            for name, kind in ATTACHMENT_FIELDS
            if (f := request.FILES.get(name)) is not None
        ]
        logged = contact_log_case(
            actor=request.user,
            case=case,
            channel=p.get("channel", ""),
            outcome=p.get("outcome", ""),
            said=p.get("said", ""),
            response=p.get("response", ""),
            reason=p.get("reason", ""),
            promise_amount=_amount(p.get("promise_amount"), "promise_amount"),
            promise_due=_date(p.get("promise_due"), "promise_due"),
            attachments=files,
            task=item,
            complete_task=bool(p.get("done")),
            call_back_on=_date(p.get("call_back_on"), "call_back_on"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        status = 403 if isinstance(exc, PermissionDenied) else 400
        return _panel(request, case, task=item, form=p, status=status)
    if logged.suppressed:
        messages.warning(request, logged.contact.said)
    else:
        messages.success(request, _("The contact is in the log."))
        if logged.promise is not None:
            messages.success(
                request,
                _("Promise recorded: %(amount)s by %(date)s; dunning pauses until then.")
                % {"amount": logged.promise.amount, "date": logged.promise.due_on.isoformat()},
            )
        if logged.task_done is not None:
            messages.info(request, _("The task is done."))
    if item is not None:
        return redirect("workbench:task", pk=item.pk)
    return redirect("workbench:log_contact", pk=case.pk)


def _denied(request, message: str):
    messages.error(request, message)
    return render(request, "collection/workbench/denied.html", {"message": message}, status=403)


# --- reason and escalation -------------------------------------------------------------------


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def reason(request, pk: int):
    """Why the owner does not pay. Malicious (恶意欠费) is a supervisor's decision."""
    case = get_scoped(cases_for(request.user), request.user, pk=pk)
    status = 200
    if request.method == "POST":
        try:
            case_set_reason(
                actor=request.user,
                case=case,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 403 if isinstance(exc, PermissionDenied) else 400
        else:
            messages.success(request, _("The reason is recorded."))
            return redirect(_next(request, reverse("workbench:log_contact", args=[case.pk])))
    return render(
        request,
        "collection/workbench/reason.html",
        {
            "case": case,
            "reasons": Reason.choices,
            "can_mark_malicious": request.user.has_perm("collection.mark_malicious"),
            "next_step": wsel.next_step(case.reason),
            "case_url": case_url(case),
            "can_reveal": _can_reveal(request),
        },
        status=status,
    )


@login_required
@permission_required("collection.add_escalation", raise_exception=True)
def escalate(request, pk: int):
    """Stop a heated conversation: hand the case to a supervisor with a note."""
    case = get_scoped(cases_for(request.user), request.user, pk=pk)
    status = 200
    if request.method == "POST":
        try:
            escalation = escalation_raise(
                actor=request.user, case=case, note=request.POST.get("note", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(
                request,
                _("Handed to a supervisor (escalation #%(id)s).") % {"id": escalation.pk},
            )
            return redirect(_next(request, reverse("workbench:log_contact", args=[case.pk])))
    return render(
        request,
        "collection/workbench/escalate.html",
        {
            "case": case,
            "escalation": wsel.case_open_escalation(case),
            "case_url": case_url(case),
            "can_reveal": _can_reveal(request),
        },
        status=status,
    )


@login_required
@permission_required("collection.work_escalations", raise_exception=True)
def escalations(request):
    status = request.GET.get("status", "")
    qs = wsel.escalations_for(request.user, status=status)
    return render(
        request,
        "collection/workbench/escalations.html",
        {
            "page": Paginator(qs, 50).get_page(request.GET.get("page")),
            "status": status,
            "statuses": Escalation.Status.choices,
            "can_reveal": _can_reveal(request),
        },
    )


@login_required
@permission_required("collection.work_escalations", raise_exception=True)
def escalation(request, pk: int):
    item = get_scoped(wsel.escalations_for(request.user, status="all"), request.user, pk=pk)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "take":
                escalation_take(actor=request.user, escalation=item)
                messages.success(request, _("You have taken the case."))
            elif action == "resolve":
                escalation_resolve(
                    actor=request.user,
                    escalation=item,
                    resolution=request.POST.get("resolution", ""),
                )
                messages.success(request, _("The escalation is resolved."))
            else:
                raise DomainError(_("unknown action"))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            return redirect("workbench:escalation", pk=item.pk)
    case = item.case
    return render(
        request,
        "collection/workbench/escalation.html",
        {
            "item": item,
            "case": case,
            "facts": wsel.case_facts(case, today=timezone.localdate()),
            "contacts": wsel.case_contacts(case, limit=10),
            "promises": wsel.case_promises(case),
            "case_url": case_url(case),
            "can_reveal": _can_reveal(request),
        },
        status=status,
    )
