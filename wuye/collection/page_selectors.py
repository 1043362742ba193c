"""Reads behind the collection staff pages (issue 14): the estate switcher, the case list and
the case page's one screen, the arrears list's extra columns, policies and call scripts.
Everything is scoped to the user's estates (ADR 0003); another estate's record is a 404.

Masking: an owner's name and phones are shown in full only to roles with
`registry.view_pii` (collectors, customer service, finance, supervisors); the auditor sees
张* and 138****5678 (`reveal_for`)."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Charge
from wuye.core.params import parse_id
from wuye.registry.models import Building, Estate, UnitParty
from wuye.registry.selectors import estates_for, notes_visible_to, scope

from .models import ArrearsCase, CallScript, CaseStatus, ContactLog, DunningPolicy, Hold

ZERO = Decimal("0.00")
# The ageing buckets (账龄) of `selectors.BUCKETS`, as the office says them.
BUCKET_LABELS = {
    "d30": _("0-30 days"),
    "d90": _("31-90 days"),
    "d180": _("91-180 days"),
    "d365": _("181-365 days"),
    "over": _("Over a year"),
}
# Who may be given a case: the roles that work cases.
CASE_ROLES = ("collector", "supervisor")


def reveal_for(user) -> bool:
    """May the user see owners' names and phones in full?"""
    return user.has_perm("registry.view_pii")


def page_estate(user, requested: str | None) -> tuple[list[Estate], Estate | None]:
    """The user's estates and the one a page shows: the requested one if it is the user's,
    else the first (the switcher never reaches another company's estate). An id that is not
    a number is a 400 (core.params)."""
    wanted = parse_id("estate", requested)
    estates = list(estates_for(user).order_by("code", "id"))
    chosen = next((e for e in estates if e.pk == wanted), None)
    return estates, chosen or (estates[0] if estates else None)


def buildings_of(estate: Estate | None) -> QuerySet[Building]:
    if estate is None:
        return Building.objects.none()
    return Building.objects.filter(estate=estate).order_by("code")


def case_workers(estate_id: int) -> QuerySet:
    """Active collectors and supervisors of an estate (whom a case may be assigned to)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__name__in=CASE_ROLES,
            staff_profile__estates__id=estate_id,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def own_building(estate: Estate | None, building_id: int | None) -> int | None:
    """A building filter kept only if the building is the estate's (switching estates on a
    page must not leave the old estate's building filtering everything out)."""
    if estate is None or building_id is None:
        return None
    return building_id if buildings_of(estate).filter(pk=building_id).exists() else None


def own_worker(estate: Estate | None, user_id: int | None) -> int | None:
    """A collector filter kept only if the person works the estate's cases."""
    if estate is None or user_id is None:
        return None
    return user_id if case_workers(estate.pk).filter(pk=user_id).exists() else None


def stage_numbers(estate: Estate | None) -> list[tuple[int, str]]:
    """(number, name) of the estate's policy stages, for filters."""
    if estate is None:
        return []
    policy = DunningPolicy.objects.filter(estate=estate).first()
    if policy is None:
        return []
    return [(s.number, s.name) for s in policy.stages.order_by("number")]


# --- the case list ---------------------------------------------------------------------------


@dataclass
class CaseFilters:
    estate_id: int | None = None
    # "" = every case not closed; "any" = closed ones too; else one status.
    status: str = ""
    stage: int | None = None
    reason: str = ""
    assignee_id: int | None = None
    building_id: int | None = None
    q: str = ""
    sort: str = "-amount"


CASE_SORTS = {
    "amount": "amount",
    "oldest": "oldest_due_date",
    "next": "next_action_date",
    "stage": "stage_number",
    "party": "party__name",
}


def case_list(user, f: CaseFilters) -> QuerySet[ArrearsCase]:
    qs = scope(ArrearsCase.objects.select_related("party", "stage", "assignee"), user)
    if f.estate_id:
        qs = qs.filter(estate_id=f.estate_id)
    if f.status == "any":
        pass
    elif f.status in CaseStatus.values:
        qs = qs.filter(status=f.status)
    else:
        qs = qs.exclude(status=CaseStatus.CLOSED)
    if f.stage is not None:
        qs = qs.filter(stage_number=f.stage)
    if f.reason:
        qs = qs.filter(reason=f.reason)
    if f.assignee_id:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.building_id:
        qs = qs.filter(
            party_id__in=UnitParty.objects.filter(unit__building_id=f.building_id).values(
                "party_id"
            )
        )
    q = (f.q or "").strip()
    if q:
        qs = qs.filter(
            Q(party__name__icontains=q)
            | Q(party_id__in=UnitParty.objects.filter(unit__number__icontains=q).values("party_id"))
        )
    key = CASE_SORTS.get(f.sort.lstrip("-"), "amount")
    desc = f.sort.startswith("-") or f.sort.lstrip("-") not in CASE_SORTS
    return qs.order_by(("-" if desc else "") + key, "id")


def units_of_parties(party_ids: list[int]) -> dict[int, list[str]]:
    """Today's units of each party (owner, tenant or payer), e.g. {7: ["1-1-301"]}."""
    today = timezone.localdate()
    out: dict[int, list[str]] = {}
    rels = (
        UnitParty.objects.filter(party_id__in=party_ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("unit")
        .order_by("unit__number")
    )
    for rel in rels:
        numbers = out.setdefault(rel.party_id, [])
        if rel.unit.number not in numbers:
            numbers.append(rel.unit.number)
    return out


def held_parties(party_ids: list[int]) -> set[int]:
    """Parties with a hold in force today (the run leaves their cases alone)."""
    from .services.cases import active_holds

    return set(active_holds(party_ids, timezone.localdate()).values_list("party_id", flat=True))


# --- the case page ---------------------------------------------------------------------------


def case_sheet(case: ArrearsCase, user) -> dict:
    """Everything about a case on one screen: the party and units, the charges in the case
    with their totals, holds, tasks, promises, escalations, the contact log (newest first)
    and the notes other departments shared."""
    today = timezone.localdate()
    party = case.party
    charges = list(
        Charge.objects.filter(pk__in=case.case_charges.values("charge_id"))
        .select_related("fee_item", "unit")
        .order_by("due_date", "period", "id")
    )
    holds = list(
        Hold.objects.filter(Q(case=case) | Q(party_id=case.party_id, case__isnull=True))
        .select_related("created_by", "released_by")
        .order_by("-starts_on", "-id")
    )
    for hold in holds:
        hold.active = hold.is_active_on(today)
    relations = (
        UnitParty.objects.filter(party=party, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("unit__building")
        .order_by("unit__number")
    )
    return {
        "party": party,
        "relations": relations,
        "charges": charges,
        "charges_amount": sum((c.amount for c in charges), ZERO),
        "charges_outstanding": sum((c.outstanding for c in charges), ZERO),
        "holds": holds,
        "tasks": case.tasks.select_related("assignee").order_by("status", "due_on", "id"),
        "promises": case.promises.select_related("created_by").order_by("-due_on", "-id"),
        "escalations": case.escalations.select_related("raised_by", "taken_by").order_by(
            "-raised_at", "-id"
        ),
        "contacts": ContactLog.objects.filter(party=party)
        .select_related("staff", "case")
        .prefetch_related("attachments")
        .order_by("-at", "-id")[:200],
        "notes": notes_visible_to(user, party),
        "reveal": reveal_for(user),
        "today": today,
    }


def approvable_stages(case: ArrearsCase) -> list[tuple[int, str]]:
    """Stages of the estate's policy that need a supervisor's approval and are not approved
    for this case yet (the run enters them only once approved)."""
    policy = DunningPolicy.objects.filter(estate_id=case.estate_id).first()
    if policy is None or not case.is_open:
        return []
    return [
        (s.number, s.name)
        for s in policy.stages.filter(needs_approval=True, number__gt=case.approved_stage)
    ]


# --- the arrears list's extra columns --------------------------------------------------------


def arrears_units(party_ids: list[int], *, as_of, estate_id: int | None = None) -> dict:
    """The units whose overdue charges make each party's row, e.g. {7: ["1-1-301"]}."""
    qs = Charge.objects.filter(
        party_id__in=party_ids,
        status=Charge.Status.OPEN,
        outstanding__gt=0,
        due_date__lt=as_of,
    )
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    out: dict[int, list[str]] = {}
    for party_id, number in (
        qs.values_list("party_id", "unit__number").distinct().order_by("unit__number")
    ):
        numbers = out.setdefault(party_id, [])
        if number not in numbers:
            numbers.append(number)
    return out


def party_phones(party_ids: list[int]) -> dict[int, str]:
    from wuye.registry.models import Party

    return dict(Party.objects.filter(pk__in=party_ids).values_list("pk", "mobile"))


# --- policies and call scripts ---------------------------------------------------------------


def policies_of(user) -> QuerySet[DunningPolicy]:
    return scope(
        DunningPolicy.objects.select_related("estate", "updated_by").prefetch_related(
            "stages__actions"
        ),
        user,
    ).order_by("estate__code", "id")


def scripts_of(user, *, estate_id: int | None = None, active_only: bool = False):
    qs = scope(CallScript.objects.select_related("estate", "updated_by"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("estate_id", "stage_number", "reason", "id")
