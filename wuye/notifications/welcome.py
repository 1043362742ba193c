"""The welcome notice (SEED: 對於新入住業主，應在收樓時明確告知其物業費的起繳時間、標準及方式):
when an ownership or a tenancy starts, the new payer is told when their fees start, the fee
standards that apply to the unit, their payment reference, the collection account, how to
pay and the hotline -- through the outbox, on the best channel they consented to, else by
letter.

Decisions:
- Who: a new owner, and a tenant who is the designated payer (a tenant who does not pay has
  nothing to be told about fees). Recorded through `registry.services.unit_party_add` (the
  unit page, the API); a registry import of existing owners sends nothing.
- The fee start date is the relation's first day, or the unit's fee start date if later.
- The standards are the published ones in force that day, the unit type's own before the
  estate's general one of the same item.
- Once per relation (`dedupe_key`). A notice that cannot be written (e.g. the estate has no
  hotline for {hotline}) never stops the ownership being recorded: the refusal is kept in
  the audit log for staff to act on.
"""

import logging
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.fees.services import standards_in_force_on

from .models import Message, Purpose
from .policy import policy_for

log = logging.getLogger(__name__)

NO_STANDARDS = {
    "zh-hans": "以物业服务中心公示为准",
    "zh-hant": "以物業服務中心公示為準",
    "en": "as posted at the service centre",
}
_UNIT_LABELS_EN = {"元/m²/月": "yuan/m²/month", "元/户/月": "yuan/unit/month", "元": "yuan"}


def _rate(rate: Decimal) -> str:
    cents = rate.quantize(Decimal("0.01"))
    return f"{cents}" if cents == rate else f"{rate.normalize():f}"


def _label(item, language: str) -> str:
    label = item.unit_label()
    if language == "en":
        return _UNIT_LABELS_EN.get(label, label.replace("元/", "yuan/"))
    return label.replace("户", "戶") if language == "zh-hant" else label


def fee_standards_text(*, unit, on: date, language: str) -> str:
    """The standards that apply to `unit` on `on`, e.g. 物业服务费 2.50元/m²/月、垃圾清运费
    10.00元/户/月."""
    chosen: dict[int, object] = {}
    for std in standards_in_force_on(unit.estate_id, on):
        if std.unit_type not in ("", unit.unit_type):
            continue
        if std.fee_item_id not in chosen or std.unit_type:  # the unit type's own wins
            chosen[std.fee_item_id] = std
    if not chosen:
        return NO_STANDARDS.get(language, NO_STANDARDS["zh-hans"])
    parts = []
    for std in chosen.values():
        item = std.fee_item
        if language == "en":
            parts.append(f"{item.name} {_rate(std.rate)} {_label(item, language)}")
        else:
            parts.append(f"{item.name} {_rate(std.rate)}{_label(item, language)}")
    return ("; " if language == "en" else "、").join(parts)


def fee_start_for(relation) -> date:
    unit_start = relation.unit.fee_start_date
    return max(relation.start_date, unit_start) if unit_start else relation.start_date


def welcome_notice_queue(*, relation, actor=None) -> Message | None:
    """Queue the welcome notice of a new ownership or payer tenancy (see the module
    docstring); None when the relation's party is not the one who pays, or it failed."""
    from .services import message_queue

    if relation.role != "owner" and not relation.is_payer:
        return None
    party, unit = relation.party, relation.unit
    language = policy_for(party.estate_id).default_language
    start = fee_start_for(relation)
    context = {
        "unit": unit.number,
        "fee_start_date": start,
        "fee_standards": fee_standards_text(unit=unit, on=start, language=language),
    }
    try:
        with transaction.atomic():
            return message_queue(
                party=party,
                purpose=Purpose.WELCOME,
                template_code="welcome",
                context=context,
                language=language,
                dedupe_key=f"welcome:unitparty:{relation.pk}",
            )
    except DomainError as exc:
        log.warning("welcome notice for %s not queued: %s", party.pk, exc)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.OTHER,
            subject=relation,
            summary=Summary(gettext_noop("welcome notice not queued: %(why)s"), why=str(exc)[:200]),
        )
        return None


def on_relation_started(*, relation, actor) -> None:
    """The registry's event (wuye.registry.events), registered in NotificationsConfig."""
    welcome_notice_queue(relation=relation, actor=actor)
