"""Storing a validated plan inside the caller's transaction.

New rows go in with one multi-row statement per batch (executemany on SQLite, COPY on
PostgreSQL) built from the model's own fields, defaults and value adapters: at 100,000 rows,
building model instances for bulk_create cost more than the whole rest of the import. Ids
are read back in one query per table by natural key (unit number, payment reference).
Updates, which are few, use the ORM's bulk_update. Progress is told every thousand records
(`progress.Written`)."""

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import DateField, DateTimeField, DecimalField, JSONField, Model
from django.utils import timezone

from wuye.core.crypto import EncryptedTextField

from ..models import Building, Party, Unit, UnitParty, new_payment_ref
from .plan import Plan
from .progress import EVERY, Progress, Written

BATCH = 5000


def _adapter(field) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, EncryptedTextField | JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, DateField):
        return ops.adapt_datefield_value
    if isinstance(field, DecimalField):
        return lambda value: ops.adapt_decimalfield_value(
            value, field.max_digits, field.decimal_places
        )
    return lambda value: value


def insert_rows(
    model: type[Model],
    rows: list[dict[str, Any]],
    written: Callable[[int], None] | None = None,
    **common: Any,
) -> None:
    """INSERT `rows` (dicts by field attname) into `model`'s table. Fields a row leaves out
    take `common`, else the field's default (auto_now_add: now); values pass through the
    same adapters Django uses. `written(n)` is told of every EVERY rows sent."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    plan: list[tuple[str, Callable | None, Any]] = []  # (attname, adapter, constant)
    for field in fields:
        adapt = _adapter(field)
        name = field.attname
        if name in rows[0] and name not in common:
            plan.append((name, adapt, None))
            continue
        if name in common:
            constant = common[name]
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            constant = now
        else:
            constant = field.get_default()
        plan.append((name, None, None if constant is None else adapt(constant)))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg 3: COPY is the fast path
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for index, row in enumerate(rows, start=1):
                    copy.write_row(
                        [
                            c if a is None else a(row.get(n)) if row.get(n) is not None else None
                            for n, a, c in plan
                        ]
                    )
                    if written and index % EVERY == 0:
                        written(EVERY)
            if written:
                written(len(rows) % EVERY)
            return
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (model meta)
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                sql,
                [
                    [
                        c if a is None else a(row.get(n)) if row.get(n) is not None else None
                        for n, a, c in plan
                    ]
                    for row in rows[start : start + BATCH]
                ],
            )
            if written:
                written(len(rows[start : start + BATCH]))


def _defaults(model: type[Model], rows: list[dict[str, Any]], names: tuple[str, ...]) -> None:
    """Give every row every field in `names` (the insert takes its column list from row 0)."""
    defaults = {n: model._meta.get_field(n).get_default() for n in names}
    for row in rows:
        for name, value in defaults.items():
            row.setdefault(name, value)


def _unique_payment_refs(parties: list[dict[str, Any]]) -> None:
    """Payment references are random and UNIQUE: draw them, then redraw any that collide in
    the file or with an existing party (one indexed query per batch). With 800,000 new
    owners two of them draw the same reference about one time in three, so the file's own
    references are remembered across batches, not only within one."""
    for party in parties:
        party["payment_ref"] = new_payment_ref()
    taken: set[str] = set()  # references of the batches already settled
    for start in range(0, len(parties), BATCH):
        batch = parties[start : start + BATCH]
        while True:
            refs = [p["payment_ref"] for p in batch]
            clashes = set(
                Party.objects.filter(payment_ref__in=refs).values_list("payment_ref", flat=True)
            )
            seen: set[str] = set()
            redo = False
            for party in batch:
                ref = party["payment_ref"]
                if ref in clashes or ref in seen or ref in taken:
                    party["payment_ref"] = new_payment_ref()
                    redo = True
                seen.add(party["payment_ref"])
            if not redo:
                break
        taken.update(seen)


def apply(plan: Plan, *, estate_id: int, progress: Progress | None = None) -> None:
    written = Written(plan.records(), progress)
    if plan.buildings_new:
        Building.objects.bulk_create(plan.buildings_new)
        ids = dict(Building.objects.filter(estate_id=estate_id).values_list("code", "id"))
        for building in plan.buildings_new:
            building.pk = ids[building.code]
        written(len(plan.buildings_new))
    if plan.buildings_changed:
        Building.objects.bulk_update(
            plan.buildings_changed, sorted(plan.building_fields), batch_size=500
        )
        written(len(plan.buildings_changed))
    if plan.units_new:
        unit_fields = (
            "entrance",
            "floor",
            "gross_area",
            "unit_type",
            "handover_date",
            "fee_start_date",
            "occupancy",
        )
        _defaults(Unit, plan.units_new, unit_fields)
        for row in plan.units_new:
            row["building_id"] = row.pop("building").pk
        insert_rows(Unit, plan.units_new, written, estate_id=estate_id)
    if plan.units_changed:
        for unit in plan.units_changed:
            if "building" in plan.unit_fields:
                unit.building_id = unit.building.pk
        Unit.objects.bulk_update(plan.units_changed, sorted(plan.unit_fields), batch_size=500)
        written(len(plan.units_changed))
    if plan.parties_new:
        _defaults(
            Party,
            plan.parties_new,
            ("mobile", "phone_alt", "id_number", "email", "mailing_address"),
        )
        _unique_payment_refs(plan.parties_new)
        insert_rows(Party, plan.parties_new, written, estate_id=estate_id)
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
        written(len(parties))
    if plan.relations_ended:
        relations = UnitParty.objects.in_bulk(list(plan.relations_ended))
        for pk, end in plan.relations_ended.items():
            relations[pk].end_date = end
        UnitParty.objects.bulk_update(list(relations.values()), ["end_date"], batch_size=500)
        written(len(relations))
    if plan.relations_payer:
        relations = UnitParty.objects.in_bulk(list(plan.relations_payer))
        for pk, is_payer in plan.relations_payer.items():
            relations[pk].is_payer = is_payer
        UnitParty.objects.bulk_update(list(relations.values()), ["is_payer"], batch_size=500)
        written(len(relations))
    if plan.relations_new:
        unit_ids = dict(Unit.objects.filter(estate_id=estate_id).values_list("number", "id"))
        party_ids = {}
        if plan.parties_new:
            party_ids = dict(
                Party.objects.filter(estate_id=estate_id).values_list("payment_ref", "id")
            )
        rows = [
            {
                "unit_id": unit_ids[rel["unit"]],
                "party_id": party_ids[rel["party"]["payment_ref"]]
                if isinstance(rel["party"], dict)
                else rel["party"],
                "role": UnitParty.Role.OWNER,
                "start_date": rel["start_date"],
                "end_date": None,
                "is_payer": rel["is_payer"],
            }
            for rel in plan.relations_new
        ]
        insert_rows(UnitParty, rows, written, estate_id=estate_id)
