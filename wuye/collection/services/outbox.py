"""Dunning messages through the notification outbox, many at once.

`message_queue` writes one message with several queries (channel plan, contact check, units);
a dunning run may owe a couple of hundred thousand. `OutboxWriter` writes them set-wise with
the same rules: the stage action's channel, else the party's preferred channels that have
consent, an address and no open opt-out (a formal demand ignores opt-outs: the law lets us
serve it), else a letter; no address at all is kept as suppressed `no_address`, a template
asking for a value that is missing as suppressed `missing_value`. Quiet hours and weekly caps
are the outbox's own: `message_send` checks them when it sends, and defers what they hold back.

Writing: rows are rendered in Python (the template language is Python's `str.format` with
named placeholders, checked by `notifications.rendering`) from plain tuples -- no model
instances -- and written with COPY on PostgreSQL, `bulk_create` elsewhere (the portable path,
for the small SQLite installations). The caller skips dedupe keys that exist already.
Sending: small batches are enqueued after commit, large ones are left to the dispatch job
(`notifications.dispatch_due`, every 5 minutes), so a run never floods the task queue."""

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from wuye.core.errors import DomainError
from wuye.notifications.conf import notify_settings
from wuye.notifications.models import Channel, Message, Purpose
from wuye.notifications.policy import CONSENT_REQUIRED, policy_for
from wuye.notifications.rendering import check_placeholders, render
from wuye.notifications.services import (
    NO_BANK_ACCOUNT,
    Holdings,
    address_for,
    template_resolve,
)

DEFAULT_ORDER = ["wechat", "app", "sms", "email"]
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per message
ENQUEUE_AT_MOST = 2000


@dataclass(slots=True)
class Recipient:
    """What the outbox reads of a party (a row read by SQL, not a model instance): the
    fields `address_for` and the channel choice use, and the estate (a letter's address)."""

    pk: int
    name: str
    mobile: str
    wechat_openid: str
    email: str
    mailing_address: str
    consents: dict
    preferred_channels: list
    payment_ref: str
    estate: Any
    # the units it holds and has left (`notifications.services.holdings_from`), read for
    # every recipient of a run at once; None: `address_for` reads them, a query per letter
    holdings: Holdings | None = None


_decoded: dict[str, Any] = {}


def _json(value) -> Any:
    """A JSON column read by raw SQL, as text: decoded once per distinct text (most parties
    share a handful of consent and channel settings). The result is only read, never
    changed, so sharing it is safe."""
    if not isinstance(value, str):
        return value
    found = _decoded.get(value)
    if found is None:
        found = json.loads(value)
        if len(_decoded) < 10000:
            _decoded[value] = found
    return found


def recipient(
    estate, pk, name, mobile, openid, email, mailing, consents, preferred, ref, holdings=None
):
    return Recipient(
        pk,
        name or "",
        mobile or "",
        openid or "",
        email or "",
        mailing or "",
        _json(consents) or {},
        _json(preferred) or [],
        ref or "",
        estate,
        holdings,
    )


def _best_channel(party, purpose: str, opted_out: set[str]) -> str:
    order = [c for c in (party.preferred_channels or []) if c in Channel.values]
    order += [c for c in DEFAULT_ORDER if c not in order]
    for channel in order:
        if channel == Channel.LETTER:
            continue
        if channel in CONSENT_REQUIRED and (party.consents or {}).get(channel) is not True:
            continue
        if channel in opted_out:  # never a refused channel, a formal demand included
            continue
        if address_for(party, channel):
            return channel
    return Channel.LETTER


class OutboxWriter:
    """Renders and writes the messages of one estate in the caller's transaction.

    `add()` one message (its dedupe key must not exist yet: the caller checks), `flush()`
    writes what was added so far, `close()` flushes and returns how many were written."""

    def __init__(self, estate):
        self.estate = estate
        policy = policy_for(estate.pk)
        self.language = policy.default_language
        self.how = notify_settings()["payment_channels"].get(self.language, "")
        self.base = {
            "estate": estate.name,
            "hotline": estate.hotline,
            "bank_account": estate.collection_account_text()
            or NO_BANK_ACCOUNT.get(self.language, NO_BANK_ACCOUNT["zh-hans"]),
        }
        self.templates: dict[tuple[str, str], Any] = {}
        self.names: dict[tuple[str, str], list[str] | None] = {}
        self.rows: list[dict] = []
        self.written = 0
        self.queued_keys: list[str] = []
        self.queued = 0
        self.now = timezone.now()
        self.copy = connection.vendor == "postgresql"
        if self.copy:
            self._prepare_copy()

    # --- rendering -----------------------------------------------------------------------
    def _render(self, text: str, values: dict, field: str) -> str:
        """`rendering.render`, with the placeholder check done once per template text."""
        key = (text, field)
        if key not in self.names:
            try:
                self.names[key] = check_placeholders(text, field=field)
            except DomainError:
                self.names[key] = None
        names = self.names[key]
        if names is None or not all(values.get(n) for n in names):  # values are text
            return render(text, values, field=field)  # raises the DomainError it always did
        return text.format(**{n: str(values[n]) for n in names})

    def add(
        self,
        *,
        party: Recipient,
        purpose: str,
        template_code: str,
        channel: str,
        context: dict,
        dedupe_key: str,
        opted: set[str],
    ) -> None:
        channel = channel or _best_channel(party, purpose, opted)
        if (
            purpose == Purpose.FORMAL_DEMAND
            and channel in opted
            and channel != Channel.LETTER
            and Channel.LETTER not in opted
        ):
            # as `message_queue`: a formal demand goes by letter, never on a refused channel
            channel = Channel.LETTER
        key = (template_code, channel)
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = template_resolve(
                code=template_code, channel=channel, language=self.language
            )
        values = {
            **self.base,
            "owner": party.name,
            "payment_ref": party.payment_ref,
            "channels": self.how.replace("{payment_ref}", party.payment_ref),
        }
        for k, v in context.items():
            if v is not None:
                values[k] = f"{v:,.2f}" if isinstance(v, Decimal) else str(v)
        address = address_for(party, channel, values, holdings=party.holdings)
        status, reason = Message.Status.QUEUED, ""
        try:
            subject = self._render(template.subject, values, "subject") if template.subject else ""
            text = self._render(template.body, values, "body")
        except DomainError as exc:
            # A template asking for a value this estate lacks (no hotline yet) must not stop
            # the run: the message is kept, held back, with the error for staff to fix.
            subject, text = "", str(exc)
            status, reason = Message.Status.SUPPRESSED, "missing_value"
        if status != Message.Status.QUEUED:
            pass
        elif not address:
            status, reason = Message.Status.SUPPRESSED, "no_address"
        elif channel in opted:
            status, reason = Message.Status.SUPPRESSED, "opted_out"
        if status == Message.Status.QUEUED:
            self.queued += 1
            if self.queued <= ENQUEUE_AT_MOST:
                self.queued_keys.append(dedupe_key)
        self.rows.append(
            {
                "estate_id": self.estate.pk,
                "party_id": party.pk,
                "channel": channel,
                "purpose": purpose,
                "template_id": template.pk,
                "template_code": template.code,
                "template_version": template.version,
                "language": template.language,
                "subject": subject,
                "text": text,
                "params": values,
                "address": address,
                "dedupe_key": dedupe_key,
                "status": status,
                "suppressed_reason": reason,
            }
        )

    # --- writing -------------------------------------------------------------------------
    def _prepare_copy(self) -> None:
        """COPY's column list (every column but the id) and the value of each column a row
        does not set: the field's default as the database stores it, `now` for timestamps."""
        self.columns: list[tuple[str, str]] = []
        self.constants: dict[str, Any] = {}
        self.json_fields: set[str] = set()
        for field in Message._meta.concrete_fields:
            if field.primary_key:
                continue
            self.columns.append((field.attname, field.column))
            if field.get_internal_type() == "JSONField":
                self.json_fields.add(field.attname)
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self.constants[field.attname] = self.now
            else:
                default = field.get_default()
                self.constants[field.attname] = (
                    json.dumps(default)
                    if field.attname in self.json_fields
                    else field.get_db_prep_save(default, connection)
                )
        names = ", ".join(connection.ops.quote_name(c) for _a, c in self.columns)
        self.copy_sql = f"COPY {Message._meta.db_table} ({names}) FROM STDIN"

    def flush(self) -> None:
        if not self.rows:
            return
        if self.copy:
            # each row: the constant row with this message's values put in their slots
            constants = [self.constants[a] for a, _c in self.columns]
            slots = [(i, a) for i, (a, _c) in enumerate(self.columns) if a in self.rows[0]]
            json_slots = [(i, a) for i, a in slots if a in self.json_fields]
            with connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
                for row in self.rows:
                    values = constants.copy()
                    for i, a in slots:
                        values[i] = row[a]
                    for i, a in json_slots:
                        values[i] = _to_json(row[a])
                    copy.write_row(values)
        else:
            Message.objects.bulk_create([Message(**row) for row in self.rows], batch_size=2000)
        self.written += len(self.rows)
        self.rows = []

    def close(self) -> int:
        """Write what is left; enqueue a small batch for sending after commit."""
        self.flush()
        if 0 < self.queued <= ENQUEUE_AT_MOST:
            ids = list(
                Message.objects.filter(dedupe_key__in=self.queued_keys)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            transaction.on_commit(lambda: _enqueue(ids))
        return self.written


def _enqueue(ids: list[int]) -> None:
    from wuye.notifications.tasks import send_message

    for message_id in ids:
        send_message.enqueue(message_id)
