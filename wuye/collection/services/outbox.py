"""Dunning messages through the notification outbox, many at once.

`message_queue` writes one message with several queries (channel plan, contact check, units);
a dunning run may owe thousands. This writes them set-wise with the same rules: the stage
action's channel, else the party's preferred channels that have consent, an address and no
open opt-out (a formal demand ignores opt-outs: the law lets us serve it), else a letter;
no channel at all is kept as suppressed `no_channel`. Quiet hours and weekly caps are the
outbox's own: `message_send` checks them when it sends, and defers what they hold back.
Sending: small batches are enqueued after commit, large ones are left to the dispatch job
(`notifications.dispatch_due`, every 5 minutes), so a run never floods the task queue."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from wuye.core.errors import DomainError
from wuye.notifications.conf import notify_settings
from wuye.notifications.models import Channel, ChannelOptOut, Message, Purpose
from wuye.notifications.policy import CONSENT_REQUIRED, policy_for
from wuye.notifications.rendering import render
from wuye.notifications.services import NO_BANK_ACCOUNT, address_for, template_resolve

DEFAULT_ORDER = ["wechat", "app", "sms", "email"]
ENQUEUE_AT_MOST = 2000


@dataclass
class Wanted:
    """One message a run wants: to `party` on `channel` (empty: best) with `template_code`."""

    party: object
    purpose: str
    template_code: str
    channel: str
    context: dict
    dedupe_key: str


def _best_channel(party, purpose: str, opted_out: set[str]) -> str:
    order = [c for c in (party.preferred_channels or []) if c in Channel.values]
    order += [c for c in DEFAULT_ORDER if c not in order]
    for channel in order:
        if channel == Channel.LETTER:
            continue
        if channel in CONSENT_REQUIRED and (party.consents or {}).get(channel) is not True:
            continue
        if purpose != Purpose.FORMAL_DEMAND and channel in opted_out:
            continue
        if address_for(party, channel):
            return channel
    return Channel.LETTER


def messages_queue_many(*, estate, wanted: list[Wanted]) -> list[Message]:
    """Write the wanted messages (in the caller's transaction); existing dedupe keys are
    skipped. Returns the messages written."""
    if not wanted:
        return []
    keys = [w.dedupe_key for w in wanted]
    existing = set(Message.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    wanted = [w for w in wanted if w.dedupe_key not in existing]
    if not wanted:
        return []
    policy = policy_for(estate.pk)
    language = policy.default_language
    opt_outs: dict[int, set[str]] = {}
    for party_id, channel in ChannelOptOut.objects.filter(
        party_id__in=[w.party.pk for w in wanted], revoked_at__isnull=True
    ).values_list("party_id", "channel"):
        opt_outs.setdefault(party_id, set()).add(channel)
    how = notify_settings()["payment_channels"].get(language, "")
    base = {
        "estate": estate.name,
        "hotline": estate.hotline,
        "bank_account": estate.collection_account_text()
        or NO_BANK_ACCOUNT.get(language, NO_BANK_ACCOUNT["zh-hans"]),
    }
    templates: dict[tuple[str, str], object] = {}
    rows = []
    for w in wanted:
        party = w.party
        opted = opt_outs.get(party.pk, set())
        channel = w.channel or _best_channel(party, w.purpose, opted)
        key = (w.template_code, channel)
        if key not in templates:
            templates[key] = template_resolve(
                code=w.template_code, channel=channel, language=language
            )
        template = templates[key]
        values = {
            **base,
            "owner": party.name,
            "payment_ref": party.payment_ref,
            "channels": how.replace("{payment_ref}", party.payment_ref),
        }
        values.update(
            {
                k: (f"{v:,.2f}" if isinstance(v, Decimal) else str(v))
                for k, v in w.context.items()
                if v is not None
            }
        )
        address = address_for(party, channel, values)
        status, reason = Message.Status.QUEUED, ""
        try:
            subject = render(template.subject, values, field="subject") if template.subject else ""
            text = render(template.body, values)
        except DomainError as exc:
            # A template asking for a value this estate lacks (no hotline yet) must not stop
            # the run: the message is kept, held back, with the error for staff to fix.
            subject, text = "", str(exc)
            status, reason = Message.Status.SUPPRESSED, "missing_value"
        if status != Message.Status.QUEUED:
            pass
        elif not address:
            status, reason = Message.Status.SUPPRESSED, "no_address"
        elif w.purpose != Purpose.FORMAL_DEMAND and channel in opted:
            status, reason = Message.Status.SUPPRESSED, "opted_out"
        rows.append(
            Message(
                estate_id=estate.pk,
                party=party,
                channel=channel,
                purpose=w.purpose,
                template=template,
                template_code=template.code,
                template_version=template.version,
                language=template.language,
                subject=subject,
                text=text,
                params=values,
                address=address,
                dedupe_key=w.dedupe_key,
                status=status,
                suppressed_reason=reason,
            )
        )
    created = Message.objects.bulk_create(rows, batch_size=2000)
    queued = [m.pk for m in created if m.status == Message.Status.QUEUED and m.pk]
    if 0 < len(queued) <= ENQUEUE_AT_MOST:
        transaction.on_commit(lambda: _enqueue(queued))
    return created


def _enqueue(ids: list[int]) -> None:
    from wuye.notifications.tasks import send_message

    for message_id in ids:
        send_message.enqueue(message_id)
