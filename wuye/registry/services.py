"""Every write to the registry. Each function is one transaction and writes its audit row."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, changed, snapshot
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.masking import mask_id_number, mask_phone
from wuye.core.normalize import clean_phone, clean_text, is_valid_phone

from . import events
from .id_numbers import IdNumberInvalid, id_number_clean
from .models import (
    Building,
    Estate,
    OwnerNote,
    Party,
    ServiceContract,
    StaffProfile,
    Unit,
    UnitParty,
)
from .selectors import visible_estate_ids


def require_estate(actor, estate_id: int) -> None:
    ids = visible_estate_ids(actor)
    if ids is not None and estate_id not in ids:
        raise PermissionDenied(_("this estate is not one of yours"), field="estate")


def require_perm(actor, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(_("missing permission %(perm)s") % {"perm": perm})


# UNIQUE constraints of the registry and the input field each one is about.
# PostgreSQL names the constraint, SQLite the columns.
_CONSTRAINT_FIELDS = {
    "unit_number_unique": "number",
    "registry_unit.number": "number",
    "building_code_unique": "code",
    "registry_building.code": "code",
    "contract_number_unique": "number",
    "registry_servicecontract.number": "number",
}


def _validated_save(instance: Model) -> None:
    """Run model validation and turn its errors into one DomainError naming the field."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError("; ".join(messages), field=None if field == "__all__" else field) from exc
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        field = next((f for name, f in _CONSTRAINT_FIELDS.items() if name in str(exc)), None)
        raise DomainError(
            _("conflicts with an existing record: %(error)s") % {"error": exc}, field=field
        ) from exc


def _create(actor, instance: Model, perm: str) -> Model:
    require_perm(actor, perm)
    if getattr(instance, "estate_id", None) is not None:
        require_estate(actor, instance.estate_id)
    _validated_save(instance)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=instance, after=snapshot(instance)
    )
    return instance


def _update(actor, instance: Model, changes: dict[str, Any], perm: str) -> Model:
    require_perm(actor, perm)
    if getattr(instance, "estate_id", None) is not None:
        require_estate(actor, instance.estate_id)
    before = snapshot(instance)
    for name, value in changes.items():
        setattr(instance, name, value)
    _validated_save(instance)
    old, new = changed(before, snapshot(instance))
    if new:
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, subject=instance, before=old, after=new
        )
    return instance


def _clean_phones(data: dict[str, Any]) -> dict[str, Any]:
    for name in ("mobile", "phone_alt"):
        if data.get(name):
            data[name] = clean_phone(data[name])
            if not is_valid_phone(data[name]):
                raise DomainError(
                    _("not a valid phone number: %(phone)s") % {"phone": data[name]}, field=name
                )
    return data


@transaction.atomic
def estate_create(*, actor, code: str, name: str, **fields) -> Estate:
    """A new estate. Whoever creates it works for it from then on (unless they see every
    estate already), so that they can go on to set it up."""
    estate = _create(
        actor, Estate(code=clean_text(code), name=clean_text(name), **fields), "registry.add_estate"
    )
    if getattr(actor, "pk", None) and visible_estate_ids(actor) is not None:
        profile, __ = StaffProfile.objects.get_or_create(user=actor)
        profile.estates.add(estate)
        actor.__dict__.pop("_wuye_estate_ids", None)  # the cached scope is stale now
    return estate


@transaction.atomic
def estate_update(*, actor, estate: Estate, **changes) -> Estate:
    return _update(actor, estate, changes, "registry.change_estate")


@transaction.atomic
def estate_collection_account_set(
    *, actor, estate: Estate, bank_name: str, bank_account_name: str, bank_account_number: str
) -> Estate:
    """The estate's collection account (收款账户), printed on notices for bank transfers.
    All three parts together, or none (cleared): a number without its bank and account name
    would send owners' money astray."""
    require_perm(actor, "registry.change_collection_account")
    require_estate(actor, estate.pk)
    bank, name = clean_text(bank_name), clean_text(bank_account_name)
    number = clean_text(bank_account_number).replace(" ", "").replace("-", "")
    if number and not (number.isdigit() and 8 <= len(number) <= 30):
        raise DomainError(
            _("an account number has 8 to 30 digits: %(number)s") % {"number": bank_account_number},
            field="bank_account_number",
        )
    if number and not bank:
        raise DomainError(_("enter the bank and branch of the account"), field="bank_name")
    if number and not name:
        raise DomainError(_("enter the name the account is held in"), field="bank_account_name")
    if not number and (bank or name):
        raise DomainError(_("enter the account number"), field="bank_account_number")
    return _update(
        actor,
        estate,
        {"bank_name": bank, "bank_account_name": name, "bank_account_number": number},
        "registry.change_collection_account",
    )


@transaction.atomic
def building_create(*, actor, estate: Estate, code: str, name: str = "", **fields) -> Building:
    code = clean_text(code)
    return _create(
        actor,
        Building(estate=estate, code=code, name=name or f"{code}栋", **fields),
        "registry.add_building",
    )


@transaction.atomic
def unit_create(*, actor, building: Building, number: str, **fields) -> Unit:
    unit = Unit(
        estate_id=building.estate_id, building=building, number=clean_text(number), **fields
    )
    if unit.gross_area is not None:
        unit.gross_area = Decimal(unit.gross_area)
    return _create(actor, unit, "registry.add_unit")


@transaction.atomic
def unit_update(*, actor, unit: Unit, **changes) -> Unit:
    if "building" in changes and changes["building"].estate_id != unit.estate_id:
        raise DomainError(_("the building belongs to another estate"), field="building")
    return _update(actor, unit, changes, "registry.change_unit")


def _clean_id_number(data: dict[str, Any], party: Party | None = None) -> dict[str, Any]:
    """A new or changed ID number must be valid (`id_numbers`); one already on record is
    left alone, so that an old record can still be edited."""
    if "id_number" in data and (party is None or data["id_number"] != party.id_number):
        try:
            data["id_number"] = id_number_clean(data["id_number"] or "")
        except IdNumberInvalid as exc:
            raise DomainError(str(exc), field="id_number") from None
    return data


@transaction.atomic
def party_create(*, actor, estate: Estate, name: str, **fields) -> Party:
    fields = _clean_id_number(_clean_phones(fields))
    return _create(
        actor, Party(estate=estate, name=clean_text(name), **fields), "registry.add_party"
    )


@transaction.atomic
def party_update(*, actor, party: Party, **changes) -> Party:
    changes = _clean_id_number(_clean_phones(changes), party)
    return _update(actor, party, changes, "registry.change_party")


@transaction.atomic
def unit_party_add(
    *,
    actor,
    unit: Unit,
    party: Party,
    role: str = UnitParty.Role.OWNER,
    start_date: date,
    is_payer: bool = False,
    end_previous: bool = True,
) -> UnitParty:
    """Record that `party` owns (or rents) `unit` from `start_date`.

    A new owner ends the previous owner's open ownership the day before (a transfer); the old
    owner's charges stay theirs. A designated payer ends any other open payer designation.
    Apps listening (`events.on_relation_started`) act in this transaction: notifications
    queues the new payer's welcome notice."""
    if party.estate_id != unit.estate_id:
        raise DomainError(_("the party belongs to another estate"), field="party")
    require_perm(actor, "registry.add_unitparty")
    require_estate(actor, unit.estate_id)
    open_rel = UnitParty.objects.select_for_update().filter(unit=unit, end_date__isnull=True)
    for rel in open_rel:
        if rel.party_id == party.pk and rel.role == role:
            raise DomainError(
                _("%(party)s is already recorded as %(role)s")
                % {"party": party, "role": rel.get_role_display()},
                field="party",
            )
        ends_ownership = end_previous and role == UnitParty.Role.OWNER == rel.role
        ends_payer = is_payer and rel.is_payer
        if ends_ownership or ends_payer:
            if rel.start_date >= start_date:
                raise DomainError(
                    _("%(party)s holds %(unit)s from %(day)s; the new date must be later")
                    % {"party": rel.party, "unit": unit, "day": rel.start_date},
                    field="start_date",
                )
            before = snapshot(rel)
            if ends_ownership:
                rel.end_date = start_date - timedelta(days=1)
            else:
                rel.is_payer = False
            rel.save()
            old, new = changed(before, snapshot(rel))
            audit_record(
                actor=actor, action=AuditEvent.Action.UPDATE, subject=rel, before=old, after=new
            )
    rel = UnitParty(
        estate_id=unit.estate_id,
        unit=unit,
        party=party,
        role=role,
        start_date=start_date,
        is_payer=is_payer,
    )
    _validated_save(rel)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=rel, after=snapshot(rel))
    events.relation_started(relation=rel, actor=actor)  # e.g. the new payer's welcome notice
    return rel


@transaction.atomic
def contract_create(
    *, actor, estate: Estate, number: str, start_date: date, **fields
) -> ServiceContract:
    return _create(
        actor,
        ServiceContract(estate=estate, number=clean_text(number), start_date=start_date, **fields),
        "registry.add_servicecontract",
    )


@transaction.atomic
def contract_update(*, actor, contract: ServiceContract, **changes) -> ServiceContract:
    return _update(actor, contract, changes, "registry.change_servicecontract")


@transaction.atomic
def owner_note_add(
    *,
    actor,
    party: Party,
    category: str,
    text: str,
    unit: Unit | None = None,
    visible_to: list[str] | None = None,
) -> OwnerNote:
    text = clean_text(text)
    if not text:
        raise DomainError(_("write what you learned"), field="text")
    department = ",".join(sorted(actor.groups.values_list("name", flat=True)))
    note = OwnerNote(
        estate_id=party.estate_id,
        party=party,
        unit=unit,
        category=category,
        text=text,
        author=actor,
        author_role=department[:32],
        visible_to=visible_to or [],
    )
    return _create(actor, note, "registry.add_ownernote")


def party_contact_view(*, actor, party: Party, reveal: bool = False) -> dict[str, str]:
    """The party's phones and ID number as `actor` may see them.

    Masked unless the actor has `registry.view_pii` and asks to reveal; each reveal is audited."""
    require_estate(actor, party.estate_id)
    if reveal:
        if not actor.has_perm("registry.view_pii"):
            raise PermissionDenied(_("your role may not see full phone and ID numbers"))
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UNMASK,
                subject=party,
                summary=Summary(gettext_noop("revealed phone and ID number")),
            )
        return {"mobile": party.mobile, "phone_alt": party.phone_alt, "id_number": party.id_number}
    return {
        "mobile": mask_phone(party.mobile),
        "phone_alt": mask_phone(party.phone_alt),
        "id_number": mask_id_number(party.id_number),
    }


@transaction.atomic
def staff_assign(*, actor, user, estates: list[Estate]) -> StaffProfile:
    profile, __ = StaffProfile.objects.get_or_create(user=user)
    before = sorted(profile.estates.values_list("code", flat=True))
    profile.estates.set(estates)
    after = sorted(e.code for e in estates)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=profile,
            before={"estates": before},
            after={"estates": after},
        )
    return profile
