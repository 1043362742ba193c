"""Validating a whole file in memory and planning what to write.

One query loads what the estate already has (buildings, unit numbers, open ownerships,
parties by name and mobile); every row is then checked against sets and dicts. The result is
a `Plan` of unsaved model instances that `write.apply` stores with bulk operations, or a list
of every error found, each with its row, column and reason."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Building, Estate, Party, Unit, UnitParty
from .cells import CellError
from .columns import COLUMNS, Column, header_key, lookup
from .hanzi import simplified
from .reading import Sheet

PREVIEW_ROWS = 20
HEADER_SEARCH_ROWS = 5


@dataclass(frozen=True)
class RowError:
    """One problem in the file: spreadsheet row (header = 1), column header, reason."""

    row: int
    column: str
    reason: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.row}:{self.column}: {self.reason}"


class Tally:
    """Stands for a plan's list of new rows when only the check is wanted (not the write):
    counts what is appended and keeps none of it, so that checking a sheet of 800,000 units
    does not hold 800,000 planned rows (about 1 KB each) in memory."""

    def __init__(self):
        self.count = 0

    def append(self, _item) -> None:
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return iter(())

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass
class Plan:
    buildings_new: list[Building] = field(default_factory=list)
    buildings_changed: list[Building] = field(default_factory=list)
    # new rows are plain dicts (model instances cost more than the rest of a row's work)
    units_new: list[dict[str, Any]] = field(default_factory=list)
    units_changed: list[Unit] = field(default_factory=list)
    unit_fields: set[str] = field(default_factory=set)
    building_fields: set[str] = field(default_factory=set)
    parties_new: list[dict[str, Any]] = field(default_factory=list)
    parties_changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    # {"unit": number, "party": id or a parties_new dict, "start_date", "is_payer"}
    relations_new: list[dict[str, Any]] = field(default_factory=list)
    relations_ended: dict[int, date] = field(default_factory=dict)
    relations_payer: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def counting(cls) -> "Plan":
        """A plan that only counts its new units, owners and ownerships (`Tally`)."""
        return cls(units_new=Tally(), parties_new=Tally(), relations_new=Tally())

    @property
    def kept(self) -> bool:
        return not isinstance(self.units_new, Tally)

    def counts(self) -> dict[str, int]:
        return {
            "buildings_created": len(self.buildings_new),
            "buildings_updated": len(self.buildings_changed),
            "units_created": len(self.units_new),
            "units_updated": len(self.units_changed),
            "parties_created": len(self.parties_new),
            "parties_updated": len(self.parties_changed),
            "ownerships_created": len(self.relations_new),
            "ownerships_ended": len(self.relations_ended),
        }

    def records(self) -> int:
        """How many records writing the plan creates or changes."""
        return sum(self.counts().values()) + len(self.relations_payer)


@dataclass
class Checked:
    """What validation found: the plan (meaningful only without errors), the errors, the
    columns recognised and ignored, and the first rows for a preview."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: list[tuple[str, Column]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)


# --- reading rows --------------------------------------------------------------------------


def _find_header(sheet: Sheet, kind: str, checked: Checked):
    """The header row: the first of the first few rows that names the required columns (a
    title line above the header is common in staff sheets). Returns the column map."""
    known = lookup(kind)
    required = {c.key for c in COLUMNS[kind] if c.required}
    seen_rows = []
    for number, values in sheet.rows:
        seen_rows.append((number, values))
        mapped = {}
        for index, value in enumerate(values):
            column = known.get(header_key(value)) if value not in (None, "") else None
            if column is not None:
                mapped[index] = column
        found = {c.key for c in mapped.values()}
        if required <= found:
            return number, values, mapped
        if len(seen_rows) >= HEADER_SEARCH_ROWS:
            break
    first_number, first = seen_rows[0] if seen_rows else (1, ())
    if not any(v not in (None, "") for v in first):
        checked.errors.append(RowError(1, "", _("the file has no header row")))
        return None
    found = set()
    for value in first:
        column = known.get(header_key(value)) if value not in (None, "") else None
        if column:
            found.add(column.key)
    for column in COLUMNS[kind]:
        if column.required and column.key not in found:
            checked.errors.append(
                RowError(first_number, column.header, _("required column is missing"))
            )
    return None


def read_rows(sheet: Sheet, kind: str, checked: Checked):
    """Yield (row number, {key: parsed value}, {key: header as in the file}) for every
    non-blank data row; cell errors go to `checked.errors` and leave the key out."""
    header = _find_header(sheet, kind, checked)
    if header is None:
        return
    header_row, header_values, mapped = header
    headers: dict[str, str] = {}
    positions: list[tuple[int, Column]] = []
    for index, column in sorted(mapped.items()):
        shown = str(header_values[index]).strip()
        if column.key in headers:
            checked.errors.append(
                RowError(
                    header_row,
                    shown,
                    _("the column %(column)s appears twice") % {"column": column.header},
                )
            )
            continue
        headers[column.key] = shown
        positions.append((index, column))
        checked.columns.append((shown, column))
    checked.ignored_columns = [
        str(v).strip()
        for i, v in enumerate(header_values)
        if i not in mapped and v not in (None, "")
    ]
    errors = checked.errors
    for number, values in sheet.rows:
        if number <= header_row:
            continue
        width = len(values)
        row: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        blank = True
        for index, column in positions:
            value = values[index] if index < width else None
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            blank = False
            raw[column.key] = value
            try:
                row[column.key] = column.parse(value)
            except CellError as exc:
                errors.append(RowError(number, headers[column.key], str(exc)))
        if blank:
            continue
        checked.rows += 1
        if len(checked.preview) < PREVIEW_ROWS:
            checked.preview.append({"row": number, "values": row, "raw": raw})
        yield number, row, headers


def _missing(number: int, headers: dict, key: str, column_header: str, reason: str) -> RowError:
    return RowError(number, headers.get(key, column_header), reason)


# --- buildings -----------------------------------------------------------------------------


_NUMERALS = {c: n for n, c in enumerate("零一二三四五六七八九", start=0)}


def _arabic(value: str) -> str:
    """`三` -> `3`, `十二` -> `12`, `二十一` -> `21` (how entrances and buildings are often
    written); anything else unchanged."""
    if not value or any(c not in _NUMERALS and c != "十" for c in value) or len(value) > 3:
        return value
    if "十" not in value:
        return "".join(str(_NUMERALS[c]) for c in value)
    tens, _sep, ones = value.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return value
    return str((_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0))


def _without_suffix(value: str, suffixes: tuple[str, ...]) -> str:
    value = simplified(value)
    for suffix in suffixes:
        if value.endswith(suffix) and len(value) > len(suffix):
            return _arabic(value[: -len(suffix)])
    return _arabic(value)


def _building_code(value: str) -> str:
    """`3栋`, `3棟`, `3幢`, `3号楼`, `三号楼` -> `3`; other codes unchanged."""
    return _without_suffix(value, ("号楼", "栋", "幢", "座"))


def _entrance_code(value: str) -> str:
    """`2单元`, `2單元`, `二单元` -> `2`; other values unchanged."""
    return _without_suffix(value, ("单元",))


def unit_code(building: str, entrance: str, room: str) -> str:
    """The unit's code from the sheet's 楼栋, 单元 and 房号 columns (DESIGN.md glossary:
    `1-2-301`); the entrance is left out when there is none (`1-301`)."""
    return "-".join(part for part in (building, entrance, room) if part)


def check_buildings(sheet: Sheet, *, estate: Estate, update: bool, checked: Checked) -> None:
    existing = {b.code: b for b in Building.objects.filter(estate=estate)}
    seen: dict[str, int] = {}
    plan = checked.plan
    for number, row, headers in read_rows(sheet, "buildings", checked):
        code = row.get("code")
        if code is None:
            if "code" not in _raw_keys(checked, number):
                checked.errors.append(
                    _missing(number, headers, "code", "楼栋编号", _("missing building code"))
                )
            continue
        if code in seen:
            checked.errors.append(
                RowError(
                    number,
                    headers["code"],
                    _("building %(code)s is listed twice (row %(row)s)")
                    % {"code": code, "row": seen[code]},
                )
            )
            continue
        seen[code] = number
        name = row.get("name") or f"{code}栋"
        building = existing.get(code)
        if building is None:
            plan.buildings_new.append(
                Building(estate=estate, code=code, name=name, floors=row.get("floors"))
            )
        elif not update:
            checked.errors.append(
                RowError(
                    number,
                    headers["code"],
                    _("building %(code)s already exists (allow updates to change it)")
                    % {"code": code},
                )
            )
        else:
            changes = {k: row[k] for k in ("name", "floors") if k in row}
            changes = {k: v for k, v in changes.items() if getattr(building, k) != v}
            if changes:
                for key, value in changes.items():
                    setattr(building, key, value)
                plan.buildings_changed.append(building)
                plan.building_fields.update(changes)


# --- units ---------------------------------------------------------------------------------

UNIT_FIELDS = (
    "entrance",
    "floor",
    "gross_area",
    "unit_type",
    "handover_date",
    "fee_start_date",
    "occupancy",
)


class _Buildings:
    """Resolving the 楼栋 cell of a units row: by code, by name, or by `3栋` -> `3`; new
    buildings are created only when the importer allows it."""

    def __init__(self, estate: Estate, create: bool, plan: Plan):
        self.estate, self.create, self.plan = estate, create, plan
        self.by_key: dict[str, Building] = {}
        for building in Building.objects.filter(estate=estate).order_by("-id"):
            self.by_key[building.name] = building
        for building in Building.objects.filter(estate=estate):
            self.by_key[building.code] = building

    def get(self, value: str) -> Building | None:
        found = self.by_key.get(value) or self.by_key.get(_building_code(value))
        if found is None and self.create:
            code = _building_code(value)[:20]
            found = Building(
                estate=self.estate, code=code, name=value if value != code else f"{code}栋"
            )
            self.plan.buildings_new.append(found)
            self.by_key[value] = self.by_key[code] = found
        return found


class _ExistingUnits:
    """The estate's units by code: model instances when updating (they may change), else
    only (id, building id)."""

    def __init__(self, estate: Estate, update: bool):
        self.update = update
        if update:
            self.by_number: dict[str, Any] = {
                u.number: u for u in Unit.objects.filter(estate=estate)
            }
        else:
            self.by_number = {
                number: (pk, building_id)
                for number, pk, building_id in Unit.objects.filter(estate=estate).values_list(
                    "number", "id", "building_id"
                )
            }

    def _building_id(self, found) -> int:
        return found.building_id if self.update else found[1]

    def find(self, code: str, room: str, building: Building | None) -> tuple[Any, str]:
        """(the existing unit or None, its code). A unit recorded before codes were composed,
        by its 房号 alone (`301` in building 1), is still found under the composed code."""
        found = self.by_number.get(code)
        if found is None and code != room and building is not None and building.pk:
            legacy = self.by_number.get(room)
            if legacy is not None and self._building_id(legacy) == building.pk:
                return legacy, room
        return found, code


def check_units(
    sheet: Sheet,
    *,
    estate: Estate,
    update: bool,
    create_buildings: bool,
    checked: Checked,
    today: date | None = None,
) -> None:
    plan = checked.plan
    today = today or timezone.localdate()
    buildings = _Buildings(estate, create_buildings, plan)
    existing = _ExistingUnits(estate, update)
    seen: dict[str, int] = {}
    owners = _Ownerships(estate, update, checked)
    errors = checked.errors
    for number, row, headers in read_rows(sheet, "units", checked):
        errors_before = len(errors)
        room = row.get("number")
        if room is None:
            if "number" not in _raw_keys(checked, number):
                errors.append(_missing(number, headers, "number", "房号", _("missing unit number")))
            continue
        if "gross_area" not in row and "gross_area" not in _raw_keys(checked, number):
            errors.append(
                _missing(
                    number,
                    headers,
                    "gross_area",
                    "建筑面积",
                    _("missing: every unit needs its gross area"),
                )
            )
        if row.get("entrance"):
            row["entrance"] = _entrance_code(row["entrance"])[:10]
        parts = room.split("-")
        building_value = row.get("building") or (parts[0] if len(parts) > 1 else "")
        building = None
        if not building_value:
            if "building" not in _raw_keys(checked, number):
                errors.append(
                    _missing(
                        number,
                        headers,
                        "building",
                        "楼栋",
                        _("missing building (and the unit number does not start with one)"),
                    )
                )
        else:
            building = buildings.get(building_value)
            if building is None:
                errors.append(
                    _missing(
                        number,
                        headers,
                        "building",
                        "楼栋",
                        _(
                            "unknown building %(building)s (import the buildings "
                            "first, or allow creating buildings)"
                        )
                        % {"building": building_value},
                    )
                )
        # 房号 alone (`301`, in every building) with the building in its own column: the
        # unit's code is composed (`1-2-301`); a full 房号 (`1-2-301`) is the code as it is
        unit_number = room
        if len(parts) == 1 and row.get("building"):
            code = building.code if building is not None else _building_code(row["building"])
            unit_number = unit_code(code, row.get("entrance", ""), room)
            if len(unit_number) > 30:
                errors.append(
                    RowError(
                        number,
                        headers["number"],
                        _("the unit's code %(unit)s is longer than 30 characters")
                        % {"unit": unit_number},
                    )
                )
                continue
            parts = unit_number.split("-")
        # entrance and floor are read from the code only when the file has no such column
        # (a blank cell in a present column stays blank, so an export imports back unchanged)
        if "entrance" not in headers and len(parts) == 3:
            row["entrance"] = parts[1][:10]
        if (
            "floor" not in headers
            and len(parts) > 1
            and parts[-1].isdigit()
            and 3 <= len(parts[-1]) <= 4
        ):
            row["floor"] = int(parts[-1][:-2])
        current, unit_number = existing.find(unit_number, room, building)
        if unit_number in seen:
            errors.append(
                RowError(
                    number,
                    headers["number"],
                    _("unit %(unit)s is listed twice (row %(row)s)")
                    % {"unit": unit_number, "row": seen[unit_number]},
                )
            )
            continue
        seen[unit_number] = number
        if current is not None and not update:
            errors.append(
                RowError(
                    number,
                    headers["number"],
                    _("unit %(unit)s already exists (allow updates to change it)")
                    % {"unit": unit_number},
                )
            )
            continue
        if len(errors) > errors_before:
            continue
        values = {k: row[k] for k in UNIT_FIELDS if k in row}
        if current is None:
            values["number"] = unit_number
            values["building"] = building
            plan.units_new.append(values)
        else:
            unit = current
            if building is not None and building.pk != unit.building_id:
                values["building"] = building
            changes = {k: v for k, v in values.items() if getattr(unit, k) != v}
            if changes:
                for key, value in changes.items():
                    setattr(unit, key, value)
                plan.units_changed.append(unit)
                plan.unit_fields.update(changes)
        if "owner_name" in row:
            start = row.get("handover_date") or row.get("fee_start_date")
            if start is None and current is not None:
                start = current.handover_date or current.fee_start_date
            owners.add(
                number=number,
                headers=headers,
                unit_number=unit_number,
                unit_id=None if current is None else current.pk,
                start_date=start or today,
                is_payer=True,
                fields={
                    "name": row["owner_name"],
                    "mobile": row.get("mobile", ""),
                    "id_number": row.get("id_number", ""),
                },
                name_key="owner_name",
                start_key="handover_date",
            )
        elif ("mobile" in row or "id_number" in row) and "owner_name" not in _raw_keys(
            checked, number
        ):
            errors.append(
                _missing(
                    number,
                    headers,
                    "owner_name",
                    "业主姓名",
                    _("the owner's name is missing but a phone or ID number is given"),
                )
            )
    owners.drop_unchanged()


def _raw_keys(checked: Checked, number: int) -> set[str]:
    """Keys whose cells in row `number` already have an error (so we do not report twice)."""
    # errors are appended in row order: look back only over this row's
    keys = set()
    for error in reversed(checked.errors):
        if error.row != number:
            break
        for shown, column in checked.columns:
            if shown == error.column:
                keys.add(column.key)
    return keys


# --- owners and ownerships -----------------------------------------------------------------

PARTY_FIELDS = ("mobile", "phone_alt", "id_number", "email", "mailing_address")


class _Ownerships:
    """Planning who owns which unit from which date, by the rules of `unit_party_add`: a new
    owner ends other open ownerships of the unit the day before (a transfer, the new start
    date must be later), a designated payer ends other payer designations, the same owner is
    not recorded twice. Rows of one file for the same unit are co-owners of each other."""

    def __init__(self, estate: Estate, update: bool, checked: Checked):
        self.estate, self.update, self.checked = estate, update, checked
        self._loaded = False
        self.new_parties: dict[tuple, dict | bool] = {}
        self.pairs: dict[tuple, int] = {}  # (unit number, party identity) -> row
        self.payer_rows: dict[str, int] = {}

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self.open_by_unit: dict[int, list[dict]] = {}
        relations = UnitParty.objects.filter(estate=self.estate, end_date__isnull=True).values(
            "id",
            "unit_id",
            "party_id",
            "role",
            "start_date",
            "is_payer",
            "party__name",
            "party__mobile",
        )
        for rel in relations:
            self.open_by_unit.setdefault(rel["unit_id"], []).append(rel)
        self.party_by_mobile = {
            (name, mobile): pk
            for name, mobile, pk in Party.objects.filter(estate=self.estate)
            .exclude(mobile="")
            .values_list("name", "mobile", "id")
        }

    def drop_unchanged(self) -> None:
        """Keep only the party details that differ from what is recorded: an update with the
        same data changes nothing (and reports 0 owners updated)."""
        changed = self.checked.plan.parties_changed
        ids = list(changed)
        for start in range(0, len(ids), 1000):
            batch = ids[start : start + 1000]
            for party in Party.objects.filter(pk__in=batch).only("id", *PARTY_FIELDS):
                fields = changed[party.pk]
                for name in [n for n, v in fields.items() if getattr(party, n) == v]:
                    del fields[name]
                if not fields:
                    del changed[party.pk]

    def add(
        self,
        *,
        number: int,
        headers: dict[str, str],
        unit_number: str,
        unit_id: int | None,
        start_date: date,
        is_payer: bool,
        fields: dict[str, str],
        name_key: str = "name",
        start_key: str = "start_date",
    ) -> None:
        self._load()
        errors, plan = self.checked.errors, self.checked.plan
        name, mobile = fields["name"], fields.get("mobile", "")
        open_rels = [] if unit_id is None else self.open_by_unit.get(unit_id, [])
        # who is this? the same name already owning the unit, else the estate's party of that
        # name and mobile, else a new party (one per name+mobile, or name+ID, in the file)
        party_id = None
        same = None
        for rel in open_rels:
            if (
                rel["role"] == UnitParty.Role.OWNER
                and rel["party__name"] == name
                and (not mobile or not rel["party__mobile"] or rel["party__mobile"] == mobile)
            ):
                party_id, same = rel["party_id"], rel
                break
        if party_id is None and mobile:
            party_id = self.party_by_mobile.get((name, mobile))
            same = next((r for r in open_rels if r["party_id"] == party_id and party_id), None)
        if mobile:
            identity = ("m", name, mobile)
        elif fields.get("id_number"):
            identity = ("i", name, fields["id_number"])
        else:
            identity = ("r", name, party_id or number)
        if party_id is not None:
            identity = ("p", party_id)
        pair = (unit_number, identity)
        if pair in self.pairs:
            errors.append(
                RowError(
                    number,
                    headers.get(name_key, name_key),
                    _("%(name)s is listed twice for unit %(unit)s (row %(row)s)")
                    % {"name": name, "unit": unit_number, "row": self.pairs[pair]},
                )
            )
            return
        self.pairs[pair] = number
        if is_payer:
            if unit_number in self.payer_rows:
                errors.append(
                    RowError(
                        number,
                        headers.get("is_payer", name_key),
                        _("unit %(unit)s has one designated payer; row %(row)s is already marked")
                        % {"unit": unit_number, "row": self.payer_rows[unit_number]},
                    )
                )
                return
            self.payer_rows[unit_number] = number
        updates = {k: v for k, v in fields.items() if k != "name" and v}
        if same is not None:
            if not self.update:
                errors.append(
                    RowError(
                        number,
                        headers.get(name_key, name_key),
                        _(
                            "%(name)s is already recorded as owner of %(unit)s "
                            "(allow updates to change their details)"
                        )
                        % {"name": name, "unit": unit_number},
                    )
                )
                return
            if updates:
                plan.parties_changed.setdefault(party_id, {}).update(updates)
            if is_payer and not same["is_payer"]:
                plan.relations_payer[same["id"]] = True
                for rel in open_rels:
                    if rel is not same and rel["is_payer"]:
                        plan.relations_payer[rel["id"]] = False
            return
        for rel in open_rels:
            ends_ownership = rel["role"] == UnitParty.Role.OWNER
            ends_payer = is_payer and rel["is_payer"]
            if not (ends_ownership or ends_payer):
                continue
            if rel["start_date"] >= start_date:
                errors.append(
                    RowError(
                        number,
                        headers.get(start_key, start_key),
                        _(
                            "%(name)s holds %(unit)s from %(held_from)s; the new start date "
                            "%(start)s must be later"
                        )
                        % {
                            "name": rel["party__name"],
                            "unit": unit_number,
                            "held_from": f"{rel['start_date']:%Y-%m-%d}",
                            "start": f"{start_date:%Y-%m-%d}",
                        },
                    )
                )
                return
            if ends_ownership:
                end = start_date - timedelta(days=1)
                plan.relations_ended[rel["id"]] = min(end, plan.relations_ended.get(rel["id"], end))
            else:
                plan.relations_payer[rel["id"]] = False
        if party_id is not None:
            party: dict | int = party_id
            if updates and self.update:
                plan.parties_changed.setdefault(party_id, {}).update(updates)
        else:
            party = self.new_parties.get(identity)
            if party is None:
                party = {"name": name, **updates}
                party["phone_tails"] = " ".join(
                    p[-4:] for p in (updates.get("mobile"), updates.get("phone_alt")) if p
                )
                # a counting plan needs only to know the party was seen
                self.new_parties[identity] = party if plan.kept else True
                plan.parties_new.append(party)
        plan.relations_new.append(
            {"unit": unit_number, "party": party, "start_date": start_date, "is_payer": is_payer}
        )


def check_owners(sheet: Sheet, *, estate: Estate, update: bool, checked: Checked) -> None:
    units = {u.number: u for u in Unit.objects.filter(estate=estate)}
    buildings = _Buildings(estate, False, checked.plan)
    owners = _Ownerships(estate, update, checked)
    errors = checked.errors
    for number, row, headers in read_rows(sheet, "owners", checked):
        errors_before = len(errors)
        bad = _raw_keys(checked, number)
        unit_number = row.get("unit")
        if unit_number is None and "unit" not in bad:
            errors.append(_missing(number, headers, "unit", "房号", _("missing unit number")))
        if "name" not in row and "name" not in bad:
            errors.append(_missing(number, headers, "name", "姓名", _("missing owner name")))
        unit = units.get(unit_number) if unit_number else None
        if unit_number and "-" not in unit_number and row.get("building"):
            # 楼栋, 单元 and 房号 in columns of their own, as on the units sheet
            building = buildings.get(row["building"])
            code = building.code if building is not None else _building_code(row["building"])
            composed = unit_code(code, _entrance_code(row.get("entrance", "")), unit_number)
            legacy = unit if building is not None and unit is not None else None
            unit = units.get(composed) or (
                legacy if legacy is not None and legacy.building_id == building.pk else None
            )
            unit_number = composed if unit is None else unit.number
        if unit_number and unit is None:
            errors.append(
                RowError(
                    number,
                    headers["unit"],
                    _("unknown unit %(unit)s (import the units first)") % {"unit": unit_number},
                )
            )
        if len(errors) > errors_before or unit is None:
            continue
        start = row.get("start_date") or unit.handover_date or unit.fee_start_date
        if start is None:
            errors.append(
                _missing(
                    number,
                    headers,
                    "start_date",
                    "起始日期",
                    _("missing: unit %(unit)s has no handover date to start from")
                    % {"unit": unit.number},
                )
            )
            continue
        owners.add(
            number=number,
            headers=headers,
            unit_number=unit.number,
            unit_id=unit.pk,
            start_date=start,
            is_payer=row.get("is_payer", False),
            fields={"name": row["name"], **{k: row[k] for k in PARTY_FIELDS if k in row}},
        )
    owners.drop_unchanged()
