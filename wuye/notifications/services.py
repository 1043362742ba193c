"""Every write of notifications. Each public function is one transaction.

Outbox: `message_queue` writes the message in the caller's transaction (the business event's)
and sending starts after that transaction commits (`transaction.on_commit` enqueues the task
`send_message`). The worker calls `message_send`, which checks the contact policy, talks to the
provider outside any transaction, and records the outcome: sent (or delivered), a retry with
exponential backoff, or failure and a fallback message on the party's next preferred channel.

Audit: staff actions (templates, opt-outs, resends, campaigns, letters) write an audit row;
messages queued by a business event do not (the event itself is audited, and the outbox row is
its own record)."""

import logging
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, changed, snapshot
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.registry.models import Party
from wuye.registry.services import require_estate, require_perm

from .channels import ChannelError, PermanentError, backend_for
from .conf import notify_settings
from .models import (
    CONTACT_CHANNELS,
    MASK,
    Campaign,
    Channel,
    ChannelConsent,
    ChannelOptOut,
    ContactMark,
    ContactPolicy,
    DeliveryReceipt,
    LetterBatch,
    Message,
    MessageTemplate,
    Purpose,
)
from .policy import (
    CONSENT_REQUIRED,
    ContactDecision,
    ContactFacts,
    contact_check,
    has_open_opt_out,
    policy_for,
)
from .rendering import check_placeholders, render
from .selectors import letters_waiting

log = logging.getLogger(__name__)

__all__ = ["contact_check", "ContactDecision"]  # re-exported: collection imports them here

DEFAULT_ORDER = ["wechat", "app", "sms", "email"]

# (unit numbers a party holds today, unit numbers it held and no longer holds): `_units_of`
Holdings = tuple[Sequence[str], Set[str]]
NO_HOLDINGS: Holdings = ((), frozenset())


# --- addresses, values, templates ------------------------------------------------------------
def address_for(
    party: Party,
    channel: str,
    values: dict[str, Any] | None = None,
    *,
    holdings: Holdings | None = None,
) -> str:
    """Where a message on `channel` goes for `party`; empty when the party has none.

    A letter without the party's own mailing address goes to a unit it holds: `holdings` is
    that party's `holdings_from` entry when the caller read many parties' units at once (a
    dunning run); without it they are read here, one query."""
    if channel == Channel.SMS:
        return party.mobile
    if channel == Channel.WECHAT:
        return party.wechat_openid
    if channel == Channel.APP:
        # the app gateway knows its users by payment reference; consent means "registered"
        return party.payment_ref if (party.consents or {}).get("app") else ""
    if channel == Channel.EMAIL:
        return party.email
    if channel == Channel.LETTER:
        if party.mailing_address:
            return party.mailing_address
        if not party.estate.address:
            return ""
        held, left = holdings if holdings is not None else _units_of(party)
        # A unit the party sold (or moved out of) is no longer his address (issue 11 §9):
        # the letter goes to a unit he still holds, else nowhere until staff record his own
        # mailing address (the message is kept as "no address").
        named = [u for u in _split_units((values or {}).get("unit")) if u not in left]
        if named:
            return f"{party.estate.address} {named[0] if len(named) == 1 else '、'.join(named)}"
        if held:
            return f"{party.estate.address} {held[0]}"
    return ""


def _split_units(value) -> list[str]:
    """The unit number(s) a message names ("1-1-301" or "1-1-301、1-1-302")."""
    return [u.strip() for u in str(value or "").split("、") if u.strip()]


def _units_of(party) -> Holdings:
    """(unit numbers the party holds today, unit numbers it held and no longer holds)."""
    from wuye.registry.models import UnitParty

    rows = (
        UnitParty.objects.filter(party_id=party.pk)
        .order_by("start_date", "id")
        .values_list("party_id", "unit__number", "start_date", "end_date")
    )
    return holdings_from(rows).get(party.pk, NO_HOLDINGS)


def holdings_from(rows: Iterable[tuple[int, str, date, date | None]]) -> dict[int, Holdings]:
    """`_units_of` of many parties at once (a dunning run reads the rows in one query):
    party id -> (unit numbers it holds today, oldest first; unit numbers it held and no longer
    holds), from rows (party id, unit number, start date, end date) in order of start date
    and id within each party. A party without rows holds nothing: `NO_HOLDINGS`."""
    today = timezone.localdate()
    held: dict[int, list[str]] = {}
    ended: dict[int, set[str]] = {}
    for party_id, number, start, end in rows:
        if start <= today and (end is None or end >= today):
            held.setdefault(party_id, []).append(number)
        elif end is not None and end < today:
            ended.setdefault(party_id, set()).add(number)
    found: dict[int, Holdings] = {pk: (units, NO_HOLDINGS[1]) for pk, units in held.items()}
    for pk, units in ended.items():
        now = found.get(pk, NO_HOLDINGS)[0]
        found[pk] = (now, units.difference(now))
    return found


# {bank_account} of an estate whose collection account finance has not set yet
NO_BANK_ACCOUNT = {
    "zh-hans": "请向物业服务中心咨询",
    "zh-hant": "請向物業服務中心諮詢",
    "en": "ask the service centre",
}


def _format_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def message_values(party: Party, context: dict[str, Any] | None, language: str) -> dict[str, str]:
    """The named values a template may use: the party's and estate's, then the caller's."""
    estate = party.estate
    values: dict[str, Any] = {
        "owner": party.name,
        "estate": estate.name,
        "hotline": estate.hotline,
        "payment_ref": party.payment_ref,
        "bank_account": estate.collection_account_text()
        or NO_BANK_ACCOUNT.get(language, NO_BANK_ACCOUNT["zh-hans"]),
    }
    if "unit" not in (context or {}):
        units = sorted(
            party.relations.filter(end_date__isnull=True).values_list("unit__number", flat=True)
        )
        if units:
            values["unit"] = "、".join(units)
    values.update({k: v for k, v in (context or {}).items() if v is not None})
    if "channels" not in values:
        how = notify_settings()["payment_channels"].get(language, "")
        values["channels"] = how.replace("{payment_ref}", party.payment_ref)
    return {k: _format_value(v) for k, v in values.items()}


def template_resolve(*, code: str, channel: str, language: str) -> MessageTemplate:
    """The newest active template of `code` for `channel` (else any channel) and `language`
    (else simplified Chinese)."""
    qs = MessageTemplate.objects.filter(code=code, is_active=True)
    for lang in dict.fromkeys([language, "zh-hans"]):
        for ch in (channel, ""):
            found = qs.filter(channel=ch, language=lang).order_by("-version").first()
            if found:
                return found
    raise DomainError(
        _("no active template %(code)s for %(channel)s in %(language)s")
        % {"code": f"{code!r}", "channel": channel, "language": language},
        field="template",
    )


# --- channels --------------------------------------------------------------------------------
def channel_plan(
    party: Party,
    purpose: str,
    *,
    values: dict | None = None,
    at: datetime | None = None,
    policy: ContactPolicy | None = None,
    facts: ContactFacts | None = None,
) -> list[str]:
    """The channels that can reach `party` for `purpose`, best first: the party's preferred
    order (else WeChat, app, SMS, e-mail), keeping those with consent and an address; a letter
    last for anything but one-time codes. `facts`: as `contact_check` takes them."""
    policy = policy or policy_for(party.estate_id)
    order = [c for c in (party.preferred_channels or []) if c in Channel.values]
    order += [c for c in DEFAULT_ORDER if c not in order]
    if purpose != Purpose.ONE_TIME_CODE and Channel.LETTER not in order:
        order.append(Channel.LETTER)
    plan = []
    for channel in order:
        if channel == Channel.LETTER and purpose == Purpose.ONE_TIME_CODE:
            continue
        if not address_for(party, channel, values):
            continue
        decision = contact_check(
            party=party, channel=channel, at=at, purpose=purpose, policy=policy, facts=facts
        )
        if decision.permanent:
            continue
        plan.append(channel)
    return plan


def _tried_channels(message: Message) -> set[str]:
    tried = set()
    current: Message | None = message
    while current is not None:
        tried.add(current.channel)
        current = current.fallback_of
    return tried


def _enqueue_send(message_id: int, run_after: datetime | None = None) -> None:
    """Enqueue the send task (deferred when the backend can; else the dispatcher picks it up)."""
    from .tasks import send_message

    if run_after is not None and run_after > timezone.now():
        if not send_message.get_backend().supports_defer:
            return  # `wuye notify_dispatch` (or the dispatch task) sends it when due
        send_message.using(run_after=run_after).enqueue(message_id)
        return
    send_message.enqueue(message_id)


# --- the outbox ------------------------------------------------------------------------------
@transaction.atomic
def message_queue(
    *,
    party: Party,
    purpose: str,
    context: dict[str, Any] | None = None,
    template_code: str | None = None,
    channel: str | None = None,
    language: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    campaign: Campaign | None = None,
    fallback_of: Message | None = None,
    now: datetime | None = None,
    secret: bool | list[str] = False,
    printed_apart: bool = False,
) -> Message:
    """Write a message to the outbox, in the caller's transaction; it is sent after commit.

    `secret` (always for one-time codes): the values of `context` (or the names listed) are
    for the party alone: staff pages and the API show them masked, and they are erased from
    the stored text once the message is delivered or given up (`message_seal`).

    `dedupe_key` makes a retried business event queue nothing new (UNIQUE). Without `channel`
    the party's best reachable channel is used; with none, a suppressed `no_channel` row records
    that nobody could be told. A message the contact policy refuses now is kept as suppressed
    with its reason and, when waiting helps, `not_before` at the next allowed time.

    `printed_apart` (letters only): the caller prints the document itself (a formal demand's
    PDF), so the letter run does not print this letter (`Message.printed_apart`)."""
    _check_purpose(purpose)
    if dedupe_key:
        existing = Message.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    message = _message_build(
        party=party,
        purpose=purpose,
        context=context,
        template_code=template_code,
        channel=channel,
        language=language,
        dedupe_key=dedupe_key,
        not_before=not_before,
        campaign=campaign,
        fallback_of=fallback_of,
        now=now,
        secret=secret,
        printed_apart=printed_apart,
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if dedupe_key:
            return Message.objects.get(dedupe_key=dedupe_key)
        raise
    _send_after_commit([message])
    return message


def _check_purpose(purpose: str) -> None:
    if purpose not in Purpose.values:
        raise DomainError(
            _("unknown purpose %(purpose)s") % {"purpose": f"{purpose!r}"}, field="purpose"
        )


def _send_after_commit(messages: list[Message]) -> None:
    """Enqueue sending each queued message (and each held back until a time) after commit."""
    for message in messages:
        if message.status == Message.Status.QUEUED or message.not_before:
            transaction.on_commit(
                lambda pk=message.pk, run_after=message.not_before: _enqueue_send(pk, run_after)
            )


def _message_build(
    *,
    party: Party,
    purpose: str,
    context: dict[str, Any] | None = None,
    template_code: str | None = None,
    channel: str | None = None,
    language: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    campaign: Campaign | None = None,
    fallback_of: Message | None = None,
    now: datetime | None = None,
    secret: bool | list[str] = False,
    printed_apart: bool = False,
    policy: ContactPolicy | None = None,
    facts: ContactFacts | None = None,
    templates: dict | None = None,
) -> Message:
    """The message `message_queue` writes, not saved. `policy`, `facts` (read for `now`) and
    `templates` (a dictionary the caller keeps) save the reads of many messages at once."""
    now = now or timezone.now()
    at = max(not_before, now) if not_before else now
    policy = policy or policy_for(party.estate_id)
    language = language or policy.default_language
    code = template_code or purpose
    probe_values = {**(context or {})}
    reason = ""
    if channel is None:
        plan = channel_plan(party, purpose, values=probe_values, at=at, policy=policy, facts=facts)
        channel = plan[0] if plan else Channel.LETTER
        if not plan:
            reason = "no_channel"
    elif channel not in Channel.values:
        raise DomainError(
            _("unknown channel %(channel)s") % {"channel": f"{channel!r}"}, field="channel"
        )
    elif (
        purpose == Purpose.FORMAL_DEMAND
        and channel != Channel.LETTER
        and _opted_out(party.pk, channel, facts)
        and not _opted_out(party.pk, Channel.LETTER, facts)
    ):
        # A formal demand is never sent on a channel the owner refused: it goes by letter
        # (where letters were refused too it stays suppressed, "opted_out": a visit by hand).
        channel = Channel.LETTER
    if templates is None:
        templates = {}
    key = (code, channel, language)
    if key not in templates:
        templates[key] = template_resolve(code=code, channel=channel, language=language)
    template = templates[key]
    values = message_values(party, context, language)
    if purpose == Purpose.ONE_TIME_CODE and not secret:
        secret = True
    secret_keys = sorted(context or {}) if secret is True else sorted(secret or [])
    message = Message(
        estate_id=party.estate_id,
        party=party,
        channel=channel,
        purpose=purpose,
        template=template,
        template_code=template.code,
        template_version=template.version,
        language=template.language,
        subject=render(template.subject, values, field="subject") if template.subject else "",
        text=render(template.body, values),
        params=values,
        secret_keys=secret_keys,
        address=address_for(party, channel, values),
        dedupe_key=dedupe_key or None,
        not_before=not_before,
        campaign=campaign,
        fallback_of=fallback_of,
        printed_apart=printed_apart and channel == Channel.LETTER,
    )
    if not reason and not message.address:
        reason = "no_address"
    decision = (
        ContactDecision(False, reason)
        if reason
        else contact_check(
            party=party, channel=channel, at=at, purpose=purpose, policy=policy, facts=facts
        )
    )
    if not decision.allowed:
        message.status = Message.Status.SUPPRESSED
        message.suppressed_reason = decision.reason
        message.not_before = decision.next_allowed_at
    return message


def _opted_out(party_id: int, channel: str, facts: ContactFacts | None) -> bool:
    if facts is not None:
        return facts.has_open_opt_out(party_id, channel)
    return has_open_opt_out(party_id, channel)


@dataclass
class _Claim:
    message: Message
    proceed: bool


def _claim(message_id: int, now: datetime) -> _Claim:
    """Lock the message (then its party: lock order message -> party), check the policy and
    move it to `sending`, or record why not."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        due = message.status == Message.Status.QUEUED or (
            message.status == Message.Status.SUPPRESSED and message.not_before is not None
        )
        if not due or (message.not_before and message.not_before > now):
            return _Claim(message, False)
        party = Party.objects.select_for_update().select_related("estate").get(pk=message.party_id)
        decision = contact_check(
            party=party, channel=message.channel, at=now, purpose=message.purpose
        )
        if not decision.allowed:
            message.status = Message.Status.SUPPRESSED
            message.suppressed_reason = decision.reason
            message.not_before = decision.next_allowed_at
            message.save(update_fields=["status", "suppressed_reason", "not_before"])
            if decision.permanent:
                _fallback(message, now)
                message_seal(message)
            else:
                run_after = message.not_before
                transaction.on_commit(lambda: _enqueue_send(message.pk, run_after))
            return _Claim(message, False)
        message.status = Message.Status.SENDING
        message.suppressed_reason = ""
        message.attempts += 1
        message.contacted_at = now
        message.save(update_fields=["status", "suppressed_reason", "attempts", "contacted_at"])
        message.party = party
        return _Claim(message, True)


def _backoff(attempts: int) -> timedelta:
    conf = notify_settings()
    seconds = conf["retry_base_seconds"] * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, conf["retry_max_seconds"]))


def message_send(*, message_id: int, now: datetime | None = None) -> Message:
    """Send one due message (the worker's job). Never holds a lock while the provider is
    called. Idempotent: a message that is not due is left as it is."""
    now = now or timezone.now()
    claim = _claim(message_id, now)
    if not claim.proceed:
        return claim.message
    message = claim.message
    provider, provider_id, error = "", "", None
    try:
        backend = backend_for(message.channel)
        provider = backend.name
        provider_id = backend.send(message)
    except ChannelError as exc:
        error = exc
    except Exception as exc:  # a bug in an adapter must not leave the message "sending"
        if message.is_secret:  # the traceback may quote the text: no code in the log
            log.error("channel %s crashed on secret message %s", message.channel, message.pk)
        else:
            log.exception("channel %s crashed on message %s", message.channel, message.pk)
        error = PermanentError(f"{type(exc).__name__}: {exc}")
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        message.provider = provider
        if error is None:
            message.provider_id = provider_id
            message.sent_at = now
            message.last_error = ""
            if backend.confirms_delivery:
                message.status = Message.Status.DELIVERED
                message.delivered_at = now
            else:
                message.status = Message.Status.SENT
            message.save()
            message_seal(message)
            return message
        message.last_error = str(error)[:2000]
        message.contacted_at = None  # it did not reach the party
        max_attempts = int(notify_settings()["max_attempts"])
        if error.retryable and message.attempts < max_attempts:
            message.status = Message.Status.QUEUED
            message.not_before = now + _backoff(message.attempts)
            message.save()
            run_after = message.not_before
            transaction.on_commit(lambda: _enqueue_send(message_id, run_after))
            return message
        message.status = Message.Status.FAILED
        message.save()
        _fallback(message, now)
        message_seal(message)
        return message


def _fallback(message: Message, now: datetime) -> Message | None:
    """After `message` failed (or can never go) on its channel: the same content on the
    party's next reachable channel not yet tried, linked to the failed one."""
    party = Party.objects.select_related("estate").get(pk=message.party_id)
    tried = _tried_channels(message)
    plan = [c for c in channel_plan(party, message.purpose, values=message.params, at=now)]
    remaining = [c for c in plan if c not in tried]
    if not remaining:
        return None
    channel = remaining[0]
    key = f"{message.dedupe_key}>{channel}"[:150] if message.dedupe_key else None
    try:
        return message_queue(
            party=party,
            purpose=message.purpose,
            context=message.params,
            template_code=message.template_code,
            channel=channel,
            language=message.language,
            dedupe_key=key,
            campaign=message.campaign,
            fallback_of=message,
            now=now,
            secret=message.secret_keys,
        )
    except DomainError as exc:  # e.g. no template for that channel: the failure stays visible
        Message.objects.filter(pk=message.pk).update(
            last_error=f"{message.last_error}\nfallback to {channel}: {exc}"[:2000]
        )
        return None


def message_seal(message: Message) -> None:
    """Erase the secret values of a message that needs them no more (delivered, sent or given
    up): its text, subject, parameters and last error keep only the masked values."""
    if not message.is_secret or all(message.params.get(k) == MASK for k in message.secret_keys):
        return
    message.text = message.staff_text
    message.subject = message.staff_subject
    message.last_error = message.staff_last_error
    message.params = message.staff_params
    Message.objects.filter(pk=message.pk).update(
        text=message.text,
        subject=message.subject,
        last_error=message.last_error,
        params=message.params,
    )


def message_secrets_erase(*, now: datetime | None = None, older_than_minutes: int = 60) -> int:
    """Seal every secret message older than the longest a code can live, whatever its state
    (one still queued when no worker ran, one held back): nothing is left to deliver then."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    done = 0
    for message in Message.objects.filter(created_at__lt=cutoff).exclude(secret_keys=[]):
        if any(message.params.get(k) != MASK for k in message.secret_keys):
            message_seal(message)
            done += 1
    return done


def message_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send every message whose time has come (queued, or suppressed until a time that has
    passed). Run by `wuye notify_dispatch` and the `dispatch_due` task; safe to run often."""
    now = now or timezone.now()
    from django.db.models import Q

    ids = list(
        Message.objects.filter(
            Q(status=Message.Status.QUEUED)
            | Q(status=Message.Status.SUPPRESSED, not_before__isnull=False)
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("not_before", "id")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        message_send(message_id=message_id, now=now)
    return len(ids)


@transaction.atomic
def message_resend(*, actor, message: Message, channel: str | None = None) -> Message:
    """Staff resend: a new message with the same content (on `channel` or the same one)."""
    require_perm(actor, "notifications.resend_message")
    require_estate(actor, message.estate_id)
    if message.status in (Message.Status.QUEUED, Message.Status.SENDING):
        raise DomainError(_("the message is still on its way"), field="status")
    if message.is_secret:
        raise DomainError(
            _("a message with a one-time code is never sent again; the owner asks for a new code"),
            field="status",
        )
    party = Party.objects.select_related("estate").get(pk=message.party_id)
    new = message_queue(
        party=party,
        purpose=message.purpose,
        context=message.params,
        template_code=message.template_code,
        channel=channel or message.channel,
        language=message.language,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=new,
        summary=Summary(gettext_noop("resend of message %(id)s"), id=message.pk),
        after=snapshot(new, ["channel", "status", "suppressed_reason"]),
    )
    return new


# --- delivery receipts -----------------------------------------------------------------------
@transaction.atomic
def message_receipt(
    *,
    provider: str,
    provider_id: str,
    delivered: bool,
    event_id: str = "",
    detail: dict | None = None,
    at: datetime | None = None,
) -> Message | None:
    """Record a provider's delivery report; UNIQUE (provider, event) makes a repeat a no-op."""
    at = at or timezone.now()
    event_id = event_id or f"{provider_id}:{'ok' if delivered else 'fail'}"
    message = (
        Message.objects.select_for_update()
        .filter(provider=provider, provider_id=provider_id)
        .first()
    )
    try:
        with transaction.atomic():
            DeliveryReceipt.objects.create(
                provider=provider,
                event_id=event_id[:150],
                message=message,
                delivered=delivered,
                detail=detail or {},
            )
    except IntegrityError:
        return message
    if message is None or message.status != Message.Status.SENT:
        return message
    if delivered:
        message.status = Message.Status.DELIVERED
        message.delivered_at = at
        message.save(update_fields=["status", "delivered_at"])
    else:
        message.status = Message.Status.FAILED
        message.last_error = str((detail or {}).get("error", "not delivered"))[:2000]
        message.contacted_at = None
        message.save(update_fields=["status", "last_error", "contacted_at"])
        _fallback(message, at)
    return message


# --- letters ---------------------------------------------------------------------------------
@transaction.atomic
def letter_batch_create(*, actor, estate_id: int) -> LetterBatch | None:
    """Print every letter of the estate waiting in the print queue as one PDF (one page per
    letter: the address block, then the text). None when nothing waits."""
    from .letters import letters_pdf

    require_perm(actor, "notifications.add_letterbatch")
    require_estate(actor, estate_id)
    letters = list(
        letters_waiting(Message.objects.select_for_update().filter(estate_id=estate_id))
        .select_related("party", "estate")
        .order_by("id")
    )
    if not letters:
        return None
    batch = LetterBatch(estate_id=estate_id, letters=len(letters), created_by=actor)
    batch.file.save(
        f"letters-{estate_id}-{timezone.localtime():%Y%m%d-%H%M%S}.pdf",
        ContentFile(letters_pdf(letters)),
        save=False,
    )
    batch.save()
    Message.objects.filter(pk__in=[m.pk for m in letters]).update(letter_batch=batch)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=batch,
        summary=Summary(gettext_noop("%(n)s letters printed"), n=len(letters)),
    )
    return batch


@transaction.atomic
def letter_tracking_record(
    *, actor, message: Message, tracking_number: str = "", delivered: bool = False
) -> Message:
    """Record a letter's registered-mail number, and (when signed for) its delivery."""
    require_perm(actor, "notifications.change_message")
    require_estate(actor, message.estate_id)
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.channel != Channel.LETTER:
        raise DomainError(_("only letters have a registered-mail number"), field="tracking_number")
    before = snapshot(message, ["tracking_number", "status"])
    if tracking_number:
        message.tracking_number = tracking_number.strip()[:40]
    if delivered:
        if not message.can_become(Message.Status.DELIVERED):
            raise DomainError(
                _("a %(status)s letter cannot be delivered") % {"status": message.status},
                field="status",
            )
        message.status = Message.Status.DELIVERED
        message.delivered_at = timezone.now()
    message.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=message,
        before=before,
        after=snapshot(message, ["tracking_number", "status"]),
    )
    return message


# --- consent, opt-outs and contacts outside the outbox ---------------------------------------
@transaction.atomic
def channel_opt_out(
    *, actor, party: Party, channel: str, source: str, note: str = "", at: datetime | None = None
) -> ChannelOptOut:
    """Record that `party` refuses `channel` (from `source`: sms_reply, hotline, letter...).
    Idempotent: an open opt-out is returned as it is."""
    if channel not in CONTACT_CHANNELS:
        raise DomainError(
            _("unknown channel %(channel)s") % {"channel": f"{channel!r}"}, field="channel"
        )
    if not source:
        raise DomainError(_("say where the opt-out came from"), field="source")
    if actor is not None:
        require_estate(actor, party.estate_id)
    try:
        with transaction.atomic():
            opt_out = ChannelOptOut.objects.create(
                estate_id=party.estate_id,
                party=party,
                channel=channel,
                at=at or timezone.now(),
                source=source[:50],
                note=note[:255],
            )
    except IntegrityError:
        return ChannelOptOut.objects.get(party=party, channel=channel, revoked_at__isnull=True)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=opt_out, after=snapshot(opt_out)
    )
    return opt_out


@transaction.atomic
def channel_opt_in(*, actor, party: Party, channel: str, at: datetime | None = None) -> int:
    """Revoke the party's open opt-out of `channel`; returns how many were revoked (0 or 1)."""
    if actor is not None:
        require_estate(actor, party.estate_id)
    opt_outs = list(
        ChannelOptOut.objects.select_for_update().filter(
            party=party, channel=channel, revoked_at__isnull=True
        )
    )
    for opt_out in opt_outs:
        opt_out.revoked_at = at or timezone.now()
        opt_out.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=opt_out,
            after={"revoked_at": opt_out.revoked_at},
        )
    return len(opt_outs)


@transaction.atomic
def contact_mark(*, party: Party, channel: str, at: datetime, source: str) -> ContactMark:
    """Count a contact made outside the outbox (a call, a visit) against the weekly cap.
    `source` identifies it (e.g. `collection.contactlog:42`); a repeat changes nothing."""
    if channel not in CONTACT_CHANNELS:
        raise DomainError(
            _("unknown channel %(channel)s") % {"channel": f"{channel!r}"}, field="channel"
        )
    try:
        with transaction.atomic():
            return ContactMark.objects.create(
                estate_id=party.estate_id, party=party, channel=channel, at=at, source=source
            )
    except IntegrityError:
        return ContactMark.objects.get(source=source)


CONSENT_EARLIEST_YEAR = 2000


@transaction.atomic
def consent_record(
    *,
    actor,
    party: Party,
    channel: str,
    given: bool,
    source: str,
    method: str,
    at: datetime | None = None,
    note: str = "",
) -> ChannelConsent:
    """Record a party's consent to a channel (or its withdrawal): when it was given, where it
    was recorded and how. The party's current word (`Party.consents`, which the contact
    policy reads) follows the newest record; a consent given also ends an open opt-out of
    the channel (the owner has asked for it again). `actor` None is the owner (portal)."""
    if channel not in CONSENT_REQUIRED:
        raise DomainError(
            _("%(channel)s needs no consent") % {"channel": _channel_label(channel)},
            field="channel",
        )
    if source not in ChannelConsent.Source.values:
        raise DomainError(_("say where the consent was recorded"), field="source")
    if method not in ChannelConsent.Method.values:
        raise DomainError(_("say how the consent was given"), field="method")
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise DomainError(_("the consent cannot be given in the future"), field="at")
    if at.year < CONSENT_EARLIEST_YEAR:  # a typo (year 662 was stored and read back with a
        # local-mean-time offset no client parses)
        raise DomainError(
            _("a consent cannot be dated before %(year)s") % {"year": CONSENT_EARLIEST_YEAR},
            field="at",
        )
    if actor is not None:
        require_perm(actor, "notifications.add_channelconsent")
        require_estate(actor, party.estate_id)
    party = Party.objects.select_for_update().get(pk=party.pk)
    record = ChannelConsent.objects.create(
        estate_id=party.estate_id,
        party=party,
        channel=channel,
        given=bool(given),
        at=at,
        source=source,
        method=method,
        note=clean_text(note)[:255],
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    newest = ChannelConsent.objects.filter(party=party, channel=channel).order_by("-at", "-id")[0]
    before = dict(party.consents or {})
    party.consents = {**before, channel: newest.given}
    party.save(update_fields=["consents"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=record,
        summary=Summary(
            gettext_noop("%(channel)s consent given (%(source)s, %(method)s)")
            if given
            else gettext_noop("%(channel)s consent withdrawn (%(source)s, %(method)s)"),
            channel=channel,
            source=source,
            method=method,
        ),
        before={"consents": before},
        after={"consents": party.consents},
    )
    if given and newest.pk == record.pk:
        channel_opt_in(actor=actor, party=party, channel=channel, at=at)
    return record


def _channel_label(channel: str) -> str:
    return str(dict(Channel.choices).get(channel, channel))


POLICY_FIELDS = [
    "quiet_start",
    "quiet_end",
    "weekly_cap",
    "weekly_cap_total",
    "channels_enabled",
    "default_language",
]


@transaction.atomic
def contact_policy_update(*, actor, estate_id: int, **fields) -> ContactPolicy:
    """Set an estate's contact policy (quiet hours, weekly caps, channels, language). A total
    cap below the cap per channel is refused: the channel's cap could never be reached."""
    require_perm(actor, "notifications.change_contactpolicy")
    require_estate(actor, estate_id)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(
            _("unknown setting %(name)s") % {"name": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    policy = ContactPolicy.objects.select_for_update().filter(estate_id=estate_id).first()
    if policy is None:
        policy = policy_for(estate_id)
    before = snapshot(policy, POLICY_FIELDS)
    for name, value in fields.items():
        setattr(policy, name, value)
    if policy.weekly_cap_total == 0:
        policy.weekly_cap_total = None
    if (
        policy.weekly_cap_total is not None
        and policy.weekly_cap
        and policy.weekly_cap_total < policy.weekly_cap
    ):
        raise DomainError(
            _(
                "the cap on all channels (%(total)s) is lower than the cap per channel "
                "(%(cap)s); raise it or lower the cap per channel"
            )
            % {"total": policy.weekly_cap_total, "cap": policy.weekly_cap},
            field="weekly_cap_total",
        )
    channels = policy.channels_enabled or {}
    if any(c not in CONTACT_CHANNELS or not isinstance(v, bool) for c, v in channels.items()):
        raise DomainError(_("unknown channel in the enabled channels"), field="channels_enabled")
    policy.save()
    old, new = changed(before, snapshot(policy, POLICY_FIELDS))
    if new:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=policy,
            estate_id=estate_id,
            before=old,
            after=new,
        )
    return policy


# --- templates -------------------------------------------------------------------------------
def _check_template_text(subject: str, body: str) -> None:
    if not (body or "").strip():
        raise DomainError(_("write the text of the message"), field="body")
    check_placeholders(subject or "", field="subject")
    check_placeholders(body)


@transaction.atomic
def template_create(
    *,
    actor,
    code: str,
    purpose: str,
    language: str,
    body: str,
    subject: str = "",
    channel: str = "",
    name: str = "",
) -> MessageTemplate:
    """A new template (version 1, or the next version of an existing code/channel/language)."""
    require_perm(actor, "notifications.add_messagetemplate")
    code = (code or "").strip()
    if not code:
        raise DomainError(_("give the template a code"), field="code")
    if purpose not in Purpose.values:
        raise DomainError(
            _("unknown purpose %(purpose)s") % {"purpose": f"{purpose!r}"}, field="purpose"
        )
    _check_template_text(subject, body)
    latest = (
        MessageTemplate.objects.select_for_update()
        .filter(code=code, channel=channel, language=language)
        .aggregate(v=Max("version"))["v"]
    )
    MessageTemplate.objects.filter(code=code, channel=channel, language=language).update(
        is_active=False
    )
    template = MessageTemplate.objects.create(
        code=code,
        purpose=purpose,
        channel=channel,
        language=language,
        version=(latest or 0) + 1,
        name=name,
        subject=subject,
        body=body,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=template, after=snapshot(template)
    )
    return template


@transaction.atomic
def template_revise(
    *, actor, template: MessageTemplate, body: str, subject: str = "", name: str | None = None
) -> MessageTemplate:
    """Change a template's wording. A version that was never used is edited; a used one is
    kept as it is and the change becomes the next version (older messages keep theirs)."""
    require_perm(actor, "notifications.change_messagetemplate")
    _check_template_text(subject, body)
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if template.messages.exists():
        return template_create(
            actor=actor,
            code=template.code,
            purpose=template.purpose,
            language=template.language,
            channel=template.channel,
            name=template.name if name is None else name,
            subject=subject,
            body=body,
        )
    before = snapshot(template, ["subject", "body", "name"])
    template.subject, template.body = subject, body
    if name is not None:
        template.name = name
    template.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=template,
        before=before,
        after=snapshot(template, ["subject", "body", "name"]),
    )
    return template


def template_preview(
    *,
    template: MessageTemplate,
    party: Party,
    context: dict[str, Any] | None = None,
    reveal: bool = True,
) -> dict[str, str]:
    """The template rendered with real data of `party` (nothing written). Without `reveal`
    (staff without `registry.view_pii`, e.g. the auditor) the party's phone numbers are
    masked wherever they appear: the address and the text."""
    values = message_values(party, context, template.language)
    out = {
        "subject": render(template.subject, values, field="subject") if template.subject else "",
        "text": render(template.body, values),
        "address": address_for(party, template.channel or Channel.SMS, values),
    }
    if not reveal:
        from wuye.core.masking import mask_phone

        for phone in {p for p in (party.mobile, party.phone_alt) if p}:
            out = {k: v.replace(phone, mask_phone(phone)) for k, v in out.items()}
    return out


# --- campaigns -------------------------------------------------------------------------------
@transaction.atomic
def campaign_start(
    *,
    actor,
    estate_id: int,
    period: str,
    template_code: str = "bill_notice",
    purpose: str = Purpose.BILL_NOTICE,
) -> Campaign:
    """Start sending a period's notices to every party of the estate (a background task).
    Idempotent: (estate, period, purpose) is UNIQUE; starting again returns the campaign (and
    resumes it if it failed)."""
    from wuye.billing.periods import Period

    from .selectors import campaign_targets

    require_perm(actor, "notifications.send_campaign")
    require_estate(actor, estate_id)
    period = str(Period.parse(period))
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                estate_id=estate_id,
                period=period,
                purpose=purpose,
                template_code=template_code,
                created_by=actor if getattr(actor, "pk", None) else None,
                total=len(campaign_targets(estate_id=estate_id, period=period)),
            )
    except IntegrityError:
        campaign = Campaign.objects.select_for_update().get(
            estate_id=estate_id, period=period, purpose=purpose
        )
        if campaign.status != Campaign.Status.FAILED:
            return campaign
        campaign.status = Campaign.Status.PENDING
        campaign.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=campaign,
        summary=Summary(gettext_noop("notices %(period)s"), period=period),
        after=snapshot(campaign, ["period", "purpose", "template_code", "total"]),
    )
    from .tasks import run_campaign

    transaction.on_commit(lambda: run_campaign.enqueue(campaign.pk))
    return campaign


def campaign_run(*, campaign_id: int, chunk: int = 200) -> Campaign:
    """Queue the campaign's messages, a chunk of parties at a time (each message as
    `message_queue` writes it, the chunk set-wise: `_campaign_queue`), recording progress
    after each chunk. Re-running is safe: each message has a dedupe key (campaign, party)."""
    from .selectors import campaign_targets

    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status == Campaign.Status.DONE:
        return campaign
    Campaign.objects.filter(pk=campaign_id).update(status=Campaign.Status.RUNNING)
    targets = campaign_targets(estate_id=campaign.estate_id, period=campaign.period)
    parties = {
        p.pk: p
        for p in Party.objects.filter(pk__in=[t.party_id for t in targets]).select_related("estate")
    }
    policy = policy_for(campaign.estate_id)
    templates: dict = {}
    counts: dict[str, dict[str, int]] = {}
    errors: list[str] = []
    done = 0
    try:
        for start in range(0, len(targets), chunk):
            with transaction.atomic():
                part = targets[start : start + chunk]
                for party, outcome in _campaign_queue(campaign, part, parties, policy, templates):
                    if isinstance(outcome, DomainError):
                        # one party's bad data (e.g. no hotline on the estate) must not stop
                        # the others: counted as an error, the first message kept
                        key, state = "error", "failed"
                        errors.append(f"{party} ({party.payment_ref}): {outcome}")
                    else:
                        key = (
                            "none" if outcome.suppressed_reason == "no_channel" else outcome.channel
                        )
                        state = outcome.status
                    bucket = counts.setdefault(key, {})
                    bucket[state] = bucket.get(state, 0) + 1
                    done += 1
                Campaign.objects.filter(pk=campaign_id).update(
                    processed=done,
                    counts=counts,
                    total=len(targets),
                    last_error="\n".join(errors[:20]),
                )
    except Exception as exc:
        Campaign.objects.filter(pk=campaign_id).update(
            status=Campaign.Status.FAILED, last_error=str(exc)[:2000]
        )
        raise
    Campaign.objects.filter(pk=campaign_id).update(
        status=Campaign.Status.DONE, finished_at=timezone.now(), processed=done, counts=counts
    )
    campaign.refresh_from_db()
    return campaign


def _campaign_key(campaign: Campaign, party_id: int) -> str:
    return f"campaign:{campaign.pk}:party:{party_id}"


def _campaign_queue(
    campaign: Campaign, targets: list, parties: dict[int, Party], policy, templates: dict
) -> list[tuple[Party, Message | DomainError]]:
    """Queue the messages of `targets` (a chunk of the campaign's), each exactly as
    `message_queue` would (`_message_build`: channel, template, values, contact policy),
    set-wise: one read of the keys already queued, one of the parties' opt-outs and recent
    contacts (`ContactFacts`), one INSERT. Returns (party, its message or the DomainError that
    refused it) per target, in order. Should a twin run have written some of the same keys
    meanwhile, the chunk is queued again one message at a time."""
    keys = {t.party_id: _campaign_key(campaign, t.party_id) for t in targets}
    existing = {m.dedupe_key: m for m in Message.objects.filter(dedupe_key__in=keys.values())}
    now = timezone.now()
    facts = ContactFacts([p for p, key in keys.items() if key not in existing], now)
    out: list[tuple[Party, Message | DomainError]] = []
    new: list[Message] = []
    for target in targets:
        party = parties[target.party_id]
        found = existing.get(keys[target.party_id])
        if found is not None:
            out.append((party, found))
            continue
        try:
            _check_purpose(campaign.purpose)
            message = _message_build(
                party=party,
                purpose=campaign.purpose,
                template_code=campaign.template_code,
                context=target.context(),
                dedupe_key=keys[target.party_id],
                campaign=campaign,
                now=now,
                policy=policy,
                facts=facts,
                templates=templates,
            )
        except DomainError as exc:
            out.append((party, exc))
            continue
        new.append(message)
        out.append((party, message))
    try:
        with transaction.atomic():
            Message.objects.bulk_create(new)
    except IntegrityError:
        return _campaign_queue_one_by_one(campaign, targets, parties)
    _send_after_commit(new)
    return out


def _campaign_queue_one_by_one(
    campaign: Campaign, targets: list, parties: dict[int, Party]
) -> list[tuple[Party, Message | DomainError]]:
    out: list[tuple[Party, Message | DomainError]] = []
    for target in targets:
        party = parties[target.party_id]
        try:
            message = message_queue(
                party=party,
                purpose=campaign.purpose,
                template_code=campaign.template_code,
                context=target.context(),
                dedupe_key=_campaign_key(campaign, party.pk),
                campaign=campaign,
            )
        except DomainError as exc:
            out.append((party, exc))
        else:
            out.append((party, message))
    return out
