"""Storing a validated plan with bulk operations, in batches, inside the caller's transaction."""

from django.db.models import Model

from ..models import Building, Party, Unit, UnitParty, new_payment_ref
from .plan import Plan

BATCH = 2000


def _ensure_pks(objects: list[Model], model: type[Model], estate_id: int, key: str) -> None:
    """Databases that cannot return ids from a bulk insert: read them back by natural key."""
    missing = [o for o in objects if o.pk is None]
    if not missing:
        return
    ids = dict(
        model.objects.filter(
            estate_id=estate_id, **{f"{key}__in": [getattr(o, key) for o in missing]}
        ).values_list(key, "id")
    )
    for obj in missing:
        obj.pk = ids[getattr(obj, key)]


def _unique_payment_refs(parties: list[Party]) -> None:
    """Payment references are random and UNIQUE: redraw any that collide, in the batch or
    with an existing party, before inserting (one indexed query per batch)."""
    for start in range(0, len(parties), BATCH):
        batch = parties[start : start + BATCH]
        while True:
            refs = [p.payment_ref for p in batch]
            clashes = set(
                Party.objects.filter(payment_ref__in=refs).values_list("payment_ref", flat=True)
            )
            seen: set[str] = set()
            redo = False
            for party in batch:
                if party.payment_ref in clashes or party.payment_ref in seen:
                    party.payment_ref = new_payment_ref()
                    redo = True
                seen.add(party.payment_ref)
            if not redo:
                break


def apply(plan: Plan, *, estate_id: int) -> None:
    if plan.buildings_new:
        Building.objects.bulk_create(plan.buildings_new, batch_size=BATCH)
        _ensure_pks(plan.buildings_new, Building, estate_id, "code")
    if plan.buildings_changed:
        Building.objects.bulk_update(
            plan.buildings_changed, sorted(plan.building_fields), batch_size=500
        )
    if plan.units_new:
        for unit in plan.units_new:
            unit.building_id = unit.building.pk
        Unit.objects.bulk_create(plan.units_new, batch_size=BATCH)
        _ensure_pks(plan.units_new, Unit, estate_id, "number")
    if plan.units_changed:
        fields = sorted(plan.unit_fields)
        for unit in plan.units_changed:
            if "building" in plan.unit_fields:
                unit.building_id = unit.building.pk
        Unit.objects.bulk_update(plan.units_changed, fields, batch_size=500)
    if plan.parties_new:
        _unique_payment_refs(plan.parties_new)
        Party.objects.bulk_create(plan.parties_new, batch_size=BATCH)
        _ensure_pks(plan.parties_new, Party, estate_id, "payment_ref")
    if plan.parties_changed:
        parties = Party.objects.in_bulk(list(plan.parties_changed))
        fields: set[str] = {"phone_tails"}
        for pk, changes in plan.parties_changed.items():
            party = parties[pk]
            for name, value in changes.items():
                setattr(party, name, value)
            fields.update(changes)
            party.phone_tails = " ".join(p[-4:] for p in (party.mobile, party.phone_alt) if p)
        Party.objects.bulk_update(list(parties.values()), sorted(fields), batch_size=500)
    if plan.relations_ended:
        relations = UnitParty.objects.in_bulk(list(plan.relations_ended))
        for pk, end in plan.relations_ended.items():
            relations[pk].end_date = end
        UnitParty.objects.bulk_update(list(relations.values()), ["end_date"], batch_size=500)
    if plan.relations_payer:
        relations = UnitParty.objects.in_bulk(list(plan.relations_payer))
        for pk, is_payer in plan.relations_payer.items():
            relations[pk].is_payer = is_payer
        UnitParty.objects.bulk_update(list(relations.values()), ["is_payer"], batch_size=500)
    if plan.relations_new:
        for relation in plan.relations_new:
            relation.unit_id = relation.unit.pk
            if relation.party_id is None:
                relation.party_id = relation.party.pk
        UnitParty.objects.bulk_create(plan.relations_new, batch_size=BATCH)
