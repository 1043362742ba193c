"""The contact log: recording contacts into the per-estate hash chain, and verifying it.

`contact_record` locks the estate's `ContactChainHead`, numbers the entry, hashes it together
with the previous entry's hash and its attachments' SHA-256, and counts calls, visits and
letters against the weekly cap (`notifications.contact_mark`). A call or visit the contact
policy refuses now (quiet hours, a weekly cap, an opt-out) is not made: it is recorded with
outcome `suppressed` and the reason, and nothing counts against the cap.
`contacts_verify` recomputes every hash and reports each break (edited, deleted, inserted)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.core.errors import DomainError
from wuye.notifications.policy import REASONS
from wuye.notifications.services import contact_check, contact_mark
from wuye.registry.models import Party
from wuye.registry.services import require_estate, require_perm

from ..models import (
    ArrearsCase,
    ContactAttachment,
    ContactChainHead,
    ContactChannel,
    ContactLog,
    Reason,
)

GENESIS = "0" * 64
# Contacts a person makes: checked against the contact policy and counted against the cap.
STAFF_CHANNELS = {ContactChannel.CALL: "call", ContactChannel.VISIT: "visit"}
MARKED_CHANNELS = {
    **STAFF_CHANNELS,
    ContactChannel.LETTER: "letter",
    ContactChannel.REGISTERED_MAIL: "letter",
}
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """Evidence handed to `contact_record`: kind, file name and content."""

    kind: str
    name: str
    content: bytes


def entry_payload(entry: ContactLog, attachment_hashes: list[str]) -> dict:
    """What the hash covers: every field a person could dispute, and the evidence."""
    return {
        "estate": entry.estate_id,
        "seq": entry.seq,
        "party": entry.party_id,
        "case": entry.case_id,
        "at": entry.at.astimezone(UTC).isoformat(),
        "channel": entry.channel,
        "staff": entry.staff_id,
        "said": entry.said,
        "response": entry.response,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "message": entry.message_id,
        "corrects": entry.corrects_id,
        "attachments": sorted(attachment_hashes),
    }


def entry_hash(prev_hash: str, payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def _head(estate_id: int) -> ContactChainHead:
    ContactChainHead.objects.get_or_create(estate_id=estate_id)
    return ContactChainHead.objects.select_for_update().get(estate_id=estate_id)


@transaction.atomic
def contact_record(
    *,
    actor,
    party: Party,
    channel: str,
    outcome: str,
    said: str = "",
    response: str = "",
    reason: str = "",
    case: ArrearsCase | None = None,
    at: datetime | None = None,
    attachments: list[Attachment] = (),
    message=None,
    corrects: ContactLog | None = None,
    inbound: bool = False,
) -> ContactLog:
    """Append one contact to the log. `inbound`: the owner called or came in (no policy
    check). Returns the entry; `entry.outcome == "suppressed"` when the policy refused it."""
    actor = actor or SYSTEM
    if actor is not SYSTEM:
        require_perm(actor, "collection.add_contactlog")
        require_estate(actor, party.estate_id)
    if channel not in ContactChannel.values:
        raise DomainError(
            _("unknown channel %(channel)s") % {"channel": repr(channel)}, field="channel"
        )
    if outcome not in ContactLog.Outcome.values:
        raise DomainError(
            _("unknown outcome %(outcome)s") % {"outcome": repr(outcome)}, field="outcome"
        )
    if reason and reason not in Reason.values:
        raise DomainError(_("unknown reason %(reason)s") % {"reason": repr(reason)}, field="reason")
    if reason == Reason.MALICIOUS and not actor.has_perm("collection.mark_malicious"):
        raise DomainError(_("only a supervisor may mark non-payment as malicious"), field="reason")
    if case is not None and case.party_id != party.pk:
        raise DomainError(_("the case belongs to another party"), field="case")
    if corrects is not None and corrects.party_id != party.pk:
        raise DomainError(_("a correction must be about the same party"), field="corrects")
    for item in attachments:
        if item.kind not in ContactAttachment.Kind.values:
            raise DomainError(_("unknown attachment kind"), field="attachments")
        if len(item.content) > MAX_ATTACHMENT_BYTES:
            raise DomainError(
                _("%(name)s is larger than 50 MB") % {"name": item.name}, field="attachments"
            )
    at = at or timezone.now()
    if channel in STAFF_CHANNELS and not inbound and message is None:
        decision = contact_check(party=party, channel=STAFF_CHANNELS[channel], at=at)
        if not decision.allowed:
            label = str(REASONS.get(decision.reason, decision.reason))
            said = _("Not made: %(reason)s.") % {"reason": label} + (f" {said}" if said else "")
            outcome = ContactLog.Outcome.SUPPRESSED
    staff = actor if getattr(actor, "pk", None) else None
    head = _head(party.estate_id)
    entry = ContactLog(
        estate_id=party.estate_id,
        seq=head.seq + 1,
        party=party,
        case=case,
        at=at,
        channel=channel,
        staff=staff,
        said=said.strip(),
        response=response.strip(),
        outcome=outcome,
        reason=reason,
        message=message,
        corrects=corrects,
        prev_hash=head.last_hash,
    )
    hashes = [hashlib.sha256(item.content).hexdigest() for item in attachments]
    entry.hash = entry_hash(entry.prev_hash, entry_payload(entry, hashes))
    entry.save(force_insert=True)
    for item, digest in zip(attachments, hashes, strict=True):
        attachment = ContactAttachment(
            contact=entry,
            kind=item.kind,
            name=item.name[:200],
            size=len(item.content),
            sha256=digest,
        )
        attachment.file.save(item.name, ContentFile(item.content), save=False)
        attachment.save()
    head.seq = entry.seq
    head.last_hash = entry.hash
    head.save(update_fields=["seq", "last_hash"])
    if channel in MARKED_CHANNELS and message is None and outcome != ContactLog.Outcome.SUPPRESSED:
        contact_mark(
            party=party,
            channel=MARKED_CHANNELS[channel],
            at=at,
            source=f"collection.contactlog:{entry.pk}",
        )
    if case is not None and outcome != ContactLog.Outcome.SUPPRESSED:
        updates = {"last_contact_at": at}
        if staff is not None:
            updates["last_progress_on"] = timezone.localdate(at)
        if reason and staff is not None:
            updates["reason"] = reason
        ArrearsCase.objects.filter(pk=case.pk).update(**updates)
        for name, value in updates.items():
            setattr(case, name, value)
    if staff is not None:
        audit_record(
            actor=actor,
            action="collection.contact_record",
            subject=entry,
            after={"channel": channel, "outcome": outcome, "reason": reason, "case": entry.case_id},
        )
    return entry


@dataclass(frozen=True)
class ChainBreak:
    estate_id: int
    seq: int
    problem: str  # "edited", "missing", "relinked", "head"

    def __str__(self) -> str:
        return f"estate {self.estate_id} entry {self.seq}: {self.problem}"


def contacts_verify(*, estate_id: int | None = None) -> list[ChainBreak]:
    """Recompute every entry's hash in order; report edited entries (hash differs), gaps in the
    numbering (a deleted entry), entries whose `prev_hash` is not the previous entry's hash,
    and a head that does not match the last entry. Streams: memory stays flat."""
    breaks: list[ChainBreak] = []
    heads = ContactChainHead.objects.all()
    if estate_id is not None:
        heads = heads.filter(estate_id=estate_id)
    for head in heads.order_by("estate_id"):
        prev_hash = GENESIS
        expected_seq = 1
        entries = (
            ContactLog.objects.filter(estate_id=head.estate_id)
            .order_by("seq")
            .prefetch_related("attachments")
        )
        for entry in entries.iterator(chunk_size=2000):
            if entry.seq != expected_seq:
                breaks.append(ChainBreak(head.estate_id, expected_seq, "missing"))
            if entry.prev_hash != prev_hash:
                breaks.append(ChainBreak(head.estate_id, entry.seq, "relinked"))
            hashes = [a.sha256 for a in entry.attachments.all()]
            if entry_hash(entry.prev_hash, entry_payload(entry, hashes)) != entry.hash:
                breaks.append(ChainBreak(head.estate_id, entry.seq, "edited"))
            prev_hash = entry.hash
            expected_seq = entry.seq + 1
        if head.seq != expected_seq - 1 or head.last_hash != prev_hash:
            breaks.append(ChainBreak(head.estate_id, head.seq, "head"))
    return breaks


def attachment_verify(attachment: ContactAttachment) -> bool:
    """Does the stored file still have the SHA-256 recorded for it?"""
    digest = hashlib.sha256()
    with attachment.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == attachment.sha256


# --- the outbox's messages in the log --------------------------------------------------------
OUTBOX_PURPOSES = ("reminder", "formal_demand")
OUTBOX_CHANNELS = {
    "sms": ContactChannel.SMS,
    "wechat": ContactChannel.WECHAT,
    "app": ContactChannel.APP,
    "email": ContactChannel.EMAIL,
    "letter": ContactChannel.LETTER,
}


def contacts_from_outbox(*, estate_id: int | None = None, limit: int = 20000) -> int:
    """Append every reminder and formal demand the outbox has finished with (sent, delivered,
    failed, or held back for good) to the contact log, once each (`ContactLog.message` is
    unique). Deferred messages wait until they go out. Returns how many were logged."""
    from django.db.models import Q

    from wuye.notifications.models import Message

    final = Q(status__in=["sent", "delivered", "failed"]) | Q(
        status="suppressed", not_before__isnull=True
    )
    messages = (
        Message.objects.filter(final, purpose__in=OUTBOX_PURPOSES, contact_log__isnull=True)
        .order_by("estate_id", "id")
        .select_related("party")
    )
    if estate_id is not None:
        messages = messages.filter(estate_id=estate_id)
    pending = list(messages[:limit])
    by_estate: dict[int, list] = {}
    for message in pending:
        by_estate.setdefault(message.estate_id, []).append(message)
    for estate, batch in by_estate.items():
        _log_messages(estate, batch)
    return len(pending)


@transaction.atomic
def _log_messages(estate_id: int, messages: list) -> None:
    head = _head(estate_id)
    cases = dict(
        ArrearsCase.objects.filter(party_id__in={m.party_id for m in messages})
        .exclude(status="closed")
        .values_list("party_id", "pk")
    )
    rows = []
    seq, prev = head.seq, head.last_hash
    for message in messages:
        outcome = {
            "sent": ContactLog.Outcome.SENT,
            "delivered": ContactLog.Outcome.SENT,
            "failed": ContactLog.Outcome.FAILED,
        }.get(message.status, ContactLog.Outcome.SUPPRESSED)
        channel = OUTBOX_CHANNELS.get(message.channel, ContactChannel.LETTER)
        if channel == ContactChannel.LETTER and message.tracking_number:
            channel = ContactChannel.REGISTERED_MAIL
        said = message.text
        if outcome == ContactLog.Outcome.SUPPRESSED:
            said = f"{message.suppressed_reason_label}: {said}"
        seq += 1
        entry = ContactLog(
            estate_id=estate_id,
            seq=seq,
            party_id=message.party_id,
            case_id=cases.get(message.party_id),
            at=message.contacted_at or message.sent_at or message.created_at,
            channel=channel,
            staff=None,
            said=said,
            response="",
            outcome=outcome,
            reason="",
            message_id=message.pk,
            corrects=None,
            prev_hash=prev,
        )
        entry.hash = entry_hash(prev, entry_payload(entry, []))
        prev = entry.hash
        rows.append(entry)
    ContactLog.objects.bulk_create(rows, batch_size=2000)
    head.seq, head.last_hash = seq, prev
    head.save(update_fields=["seq", "last_hash"])
