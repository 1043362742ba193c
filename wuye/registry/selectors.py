"""Reads of the registry, scoped to the estates the user works for."""

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from wuye.core.normalize import clean_phone, clean_text

from .models import Estate, OwnerNote, Party, StaffProfile, Unit, UnitParty


def can_access_all_estates(user) -> bool:
    return user.has_perm("registry.access_all_estates")


def visible_estate_ids(user) -> set[int] | None:
    """The estates `user` may read; None means all of them. Cached on the user object."""
    if not user.is_authenticated or not user.is_active:
        return set()
    cached = getattr(user, "_wuye_estate_ids", False)
    if cached is not False:
        return cached
    if can_access_all_estates(user):
        ids = None
    else:
        try:
            ids = set(user.staff_profile.estates.values_list("id", flat=True))
        except StaffProfile.DoesNotExist:
            ids = set()
    user._wuye_estate_ids = ids
    return ids


def scope(qs: QuerySet, user, field: str = "estate_id") -> QuerySet:
    """Restrict `qs` to the user's estates. Every staff read goes through this (or a selector
    built on it), so estate B's records are simply not there for a user of estate A."""
    ids = visible_estate_ids(user)
    if ids is None:
        return qs
    return qs.filter(**{f"{field}__in": ids})


def get_scoped(qs: QuerySet, user, field: str = "estate_id", **lookup):
    """One object of the user's estates, or 404 (never 403: the other estate does not exist).
    A lookup value that is no id at all (`id=abc` in a hand-edited form) is not found either,
    never a crash."""
    try:
        return scope(qs, user, field).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404(str(qs.model._meta.verbose_name)) from exc


def estates_for(user) -> QuerySet[Estate]:
    return scope(Estate.objects.filter(is_active=True), user, "id")


def unit_search(
    user,
    *,
    q: str = "",
    estate_id: int | None = None,
    building_id=None,
    unit_type: str = "",
    occupancy: str = "",
) -> QuerySet[Unit]:
    """Units by number, owner name or the last 4 digits of a phone.

    A query of exactly 4 digits is tried as a phone tail as well as a unit number part."""
    qs = scope(Unit.objects.select_related("building", "estate"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    if building_id:
        qs = qs.filter(building_id=building_id)
    if unit_type:
        qs = qs.filter(unit_type=unit_type)
    if occupancy:
        qs = qs.filter(occupancy=occupancy)
    q = clean_text(q)
    if q:
        match = Q(number__icontains=q)
        party_match = Q(party__name__icontains=q)
        digits = clean_phone(q)
        if digits.isdigit() and len(digits) == 4:
            party_match |= Q(party__phone_tails__contains=digits)
        elif digits.isdigit() and len(digits) >= 7:
            party_match |= Q(party__mobile=digits) | Q(party__phone_alt=digits)
        unit_ids = UnitParty.objects.filter(party_match, end_date__isnull=True).values("unit_id")
        qs = qs.filter(match | Q(id__in=unit_ids))
    return qs


def party_search(user, *, q: str = "", estate_id: int | None = None) -> QuerySet[Party]:
    qs = scope(Party.objects.select_related("estate"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    q = clean_text(q)
    if q:
        digits = clean_phone(q)
        match = Q(name__icontains=q)
        if digits.isdigit() and len(digits) == 4:
            match |= Q(phone_tails__contains=digits)
        elif digits.isdigit() and len(digits) >= 7:
            match |= Q(mobile=digits) | Q(phone_alt=digits)
        match |= Q(relations__unit__number__icontains=q)
        qs = qs.filter(match).distinct()
    return qs


def current_relations(unit: Unit, on=None) -> QuerySet[UnitParty]:
    """Owners and tenants of `unit` on date `on` (today's when None)."""
    from django.utils import timezone

    on = on or timezone.localdate()
    return (
        UnitParty.objects.filter(unit=unit, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("party")
    )


def payer_on(unit: Unit, on) -> Party | None:
    """Who owes the unit's charges on date `on`: the designated payer, else the owner."""
    relations = list(current_relations(unit, on))
    for rel in relations:
        if rel.is_payer:
            return rel.party
    for rel in relations:
        if rel.role == UnitParty.Role.OWNER:
            return rel.party
    return None


def payers_for_units(unit_ids: list[int], on=None) -> dict[int, Party]:
    """Today's payer of each unit in one query (for list pages)."""
    from django.utils import timezone

    on = on or timezone.localdate()
    rels = (
        UnitParty.objects.filter(unit_id__in=unit_ids, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("party")
        .order_by("unit_id", "-is_payer", "role", "id")
    )
    payers: dict[int, Party] = {}
    for rel in rels:
        if rel.unit_id in payers:
            continue
        if rel.is_payer or rel.role == UnitParty.Role.OWNER:
            payers[rel.unit_id] = rel.party
    return payers


def notes_visible_to(user, party: Party) -> QuerySet[OwnerNote]:
    """Owner notes of `party` that the user's roles may read."""
    qs = scope(OwnerNote.objects.filter(party=party).select_related("author"), user)
    if user.has_perm("registry.access_all_estates") and user.has_perm("audit.view_auditevent"):
        return qs
    roles = set(user.groups.values_list("name", flat=True))
    visible = [n.pk for n in qs if not n.visible_to or roles & set(n.visible_to)]
    return qs.filter(pk__in=visible)
