"""The case list and the case page (催收案件, issue 14 §4): everything about a case on one
screen, manual holds (placed by anyone who works cases, released by a supervisor) and
a supervisor's approval of a stage that needs one (legal action), and
reassignment (a supervisor's: `collection.work_escalations` marks the team lead who hands
cases out; the service itself only needs `change_arrearscase`, which the workbench uses).
The collector's actions (log a call, promise, escalate, mark malicious) are the workbench's
pages; their buttons sit in `collection/_case_actions.html`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.params import query_id, query_int
from wuye.registry.selectors import get_scoped

from . import page_selectors as ps
from . import selectors as sel
from .models import CaseStatus, Hold, HoldKind, Reason
from .services import cases as case_services
from .views_resolution import _date


def _int(value) -> int | None:
    """A whole number from a query or form, or None (never a 500 on '²' or 'x')."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def case_list(request):
    g = request.GET
    estates, estate = ps.page_estate(request.user, g.get("estate"))
    filters = ps.CaseFilters(
        estate_id=estate.pk if estate else -1,
        status=g.get("status", ""),
        stage=query_int(g, "stage", maximum=99),
        reason=g.get("reason", ""),
        assignee_id=ps.own_worker(estate, query_id(g, "assignee")),
        building_id=ps.own_building(estate, query_id(g, "building")),
        q=g.get("q", ""),
        sort=g.get("sort", "-amount"),
    )
    page = Paginator(ps.case_list(request.user, filters), 50).get_page(g.get("page"))
    ids = [c.party_id for c in page]
    units, held = ps.units_of_parties(ids), ps.held_parties(ids)
    for case in page:
        case.units = units.get(case.party_id, [])
        case.held = case.party_id in held
    return render(
        request,
        "collection/case_list.html",
        {
            "page": page,
            "f": filters,
            "estates": estates,
            "estate": estate,
            "statuses": CaseStatus.choices,
            "reasons": Reason.choices,
            "stages": ps.stage_numbers(estate),
            "workers": ps.case_workers(estate.pk) if estate else [],
            "buildings": ps.buildings_of(estate),
            "reveal": ps.reveal_for(request.user),
        },
    )


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def case_detail(request, pk: int):
    case = get_scoped(sel.cases_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        try:
            _case_post(request, case)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("collection:case", args=[case.pk]))
    context = ps.case_sheet(case, request.user)
    context.update(
        {
            "case": case,
            "workers": ps.case_workers(case.estate_id),
            "can_reassign": request.user.has_perm("collection.work_escalations")
            and request.user.has_perm("collection.change_arrearscase"),
            "hold_kinds": HoldKind,
            "approvable": ps.approvable_stages(case)
            if request.user.has_perm("collection.approve_stage")
            else [],
        }
    )
    return render(request, "collection/case_detail.html", context)


def _case_post(request, case) -> None:
    p = request.POST
    user = request.user
    action = p.get("action", "")
    if action == "hold":
        case_services.hold_place(
            actor=user,
            case=case,
            kind=HoldKind.MANUAL,
            reason=p.get("reason", ""),
            expires_on=_date(p.get("expires_on"), "expires_on"),
        )
        messages.success(request, _("Dunning of this case is on hold."))
    elif action == "release":
        hold = get_scoped(Hold.objects.filter(party_id=case.party_id), user, pk=_int(p.get("hold")))
        case_services.hold_release(actor=user, hold=hold)
        messages.success(request, _("The hold is released; dunning resumes."))
    elif action == "reassign":
        if not user.has_perm("collection.work_escalations"):
            raise PermissionDenied(_("only a supervisor may reassign a case"))
        assignee_id = _int(p.get("assignee"))
        assignee = None
        if assignee_id is not None:
            assignee = ps.case_workers(case.estate_id).filter(pk=assignee_id).first()
            if assignee is None:
                raise DomainError(
                    _("choose a collector or supervisor of this estate"), field="assignee"
                )
        case_services.case_assign(actor=user, case=case, assignee=assignee)
        messages.success(request, _("The case is reassigned."))
    elif action == "approve":
        number = _int(p.get("stage"))
        if number not in {n for n, _name in ps.approvable_stages(case)}:
            raise DomainError(_("choose a stage that needs approval"), field="stage")
        case_services.case_approve_stage(
            actor=user, case=case, stage_number=number, note=p.get("note", "")
        )
        messages.success(
            request, _("Approved: the case may enter stage %(number)s.") % {"number": number}
        )
    else:
        raise DomainError(_("unknown action"))
