"""Writes of the owners' portal: sign-in codes (through the notifications outbox), the
owner's requests, and staff answering them.

Sign-in without account enumeration: any well-formed mobile number may ask for a code, and
gets the same answer and the same limits whether or not it belongs to an owner; only an
owner's number is actually sent a code. Limits (per number: one a minute, five an hour; per
address: twenty an hour; five attempts per code; codes live ten minutes) are settings of
WUYE_PORTAL."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.normalize import MOBILE, clean_phone
from wuye.notifications.models import Purpose
from wuye.notifications.services import message_queue
from wuye.registry.models import Party, Unit
from wuye.registry.services import require_estate, require_perm

from .models import LoginCode, OwnerRequest

DEFAULTS = {
    "code_minutes": 10,
    "code_attempts": 5,
    "resend_seconds": 60,
    "codes_per_hour": 5,
    "codes_per_ip_hour": 20,
}
GENERIC_FAILURE = "the code is wrong or has expired; ask for a new one"


def portal_settings() -> dict:
    return DEFAULTS | getattr(settings, "WUYE_PORTAL", {})


def _hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"portal-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_mobile(value: str) -> str:
    phone = clean_phone(value).replace("-", "")
    if not MOBILE.match(phone):
        raise DomainError("enter an 11-digit mobile number", field="phone")
    return phone


@transaction.atomic
def code_request(*, phone: str, ip: str = "", now: datetime | None = None) -> LoginCode:
    """Make a code for `phone` and, if it is an owner's, send it by SMS through the outbox.
    The caller shows the same words either way."""
    conf = portal_settings()
    now = now or timezone.now()
    phone = normalize_mobile(phone)
    recent = LoginCode.objects.filter(phone=phone, created_at__gte=now - timedelta(hours=1))
    last = recent.order_by("-created_at").first()
    if last and (now - last.created_at).total_seconds() < conf["resend_seconds"]:
        raise DomainError("a code was sent a moment ago; wait a minute", field="phone", code="wait")
    if recent.count() >= conf["codes_per_hour"]:
        raise DomainError("too many codes for this number; try again later", field="phone")
    if ip and (
        LoginCode.objects.filter(ip=ip, created_at__gte=now - timedelta(hours=1)).count()
        >= conf["codes_per_ip_hour"]
    ):
        raise DomainError("too many codes from here; try again later", field="phone")
    code = f"{secrets.randbelow(10**6):06d}"
    row = LoginCode.objects.create(
        phone=phone,
        code_hash=_hash(phone, code),
        ip=ip[:45],
        created_at=now,
        expires_at=now + timedelta(minutes=conf["code_minutes"]),
    )
    party = Party.objects.select_related("estate").filter(mobile=phone).order_by("pk").first()
    if party is not None:
        message_queue(
            party=party,
            purpose=Purpose.ONE_TIME_CODE,
            channel="sms",
            context={"code": code},
            dedupe_key=f"portal-code:{row.pk}",
            now=now,
        )
        LoginCode.objects.filter(pk=row.pk).update(sent=True)
    return row


@dataclass
class _Check:
    ok: bool
    party_ids: list[int]


@transaction.atomic
def _check(phone: str, code: str, now: datetime) -> _Check:
    conf = portal_settings()
    row = (
        LoginCode.objects.select_for_update()
        .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if row is None or row.attempts >= conf["code_attempts"]:
        return _Check(False, [])
    LoginCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    if not hmac.compare_digest(row.code_hash, _hash(phone, code)):
        return _Check(False, [])
    LoginCode.objects.filter(pk=row.pk).update(used_at=now)
    party_ids = list(Party.objects.filter(mobile=phone).values_list("pk", flat=True))
    return _Check(bool(party_ids), party_ids)


def code_verify(*, phone: str, code: str, now: datetime | None = None) -> list[int]:
    """The ids of the parties with this phone, when `code` is the live code sent to it.
    Every failure says the same; the attempt counts even when it fails."""
    phone = normalize_mobile(phone)
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    result = _check(phone, code, now or timezone.now())
    if not result.ok:
        raise DomainError(GENERIC_FAILURE, field="code", code="bad_code")
    return result.party_ids


@transaction.atomic
def request_raise(
    *,
    party: Party,
    kind: str,
    text: str,
    unit: Unit | None = None,
    charge_ids: list[int] | None = None,
    phone: str = "",
) -> OwnerRequest:
    """An owner raises a service dispute or a hardship request; staff see it in their list."""
    if kind not in OwnerRequest.Kind.values:
        raise DomainError("choose a dispute or a hardship request", field="kind")
    text = (text or "").strip()
    if len(text) < 5:
        raise DomainError("tell us a little more (at least 5 characters)", field="text")
    if unit is not None and not party.relations.filter(unit=unit).exists():
        raise DomainError("that is not one of your units", field="unit")
    ids = [int(i) for i in (charge_ids or [])]
    if ids and Charge.objects.filter(pk__in=ids, party=party).count() != len(set(ids)):
        raise DomainError("a charge is not one of yours", field="charges")
    item = OwnerRequest.objects.create(
        estate_id=party.estate_id,
        party=party,
        unit=unit,
        kind=kind,
        text=text[:4000],
        charge_ids=ids,
        phone=phone,
    )
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        subject=item,
        summary=f"owner raised: {item.get_kind_display()}",
    )
    return item


@transaction.atomic
def request_answer(*, actor, item: OwnerRequest, answer: str, close: bool) -> OwnerRequest:
    """Staff take the request on (and answer it); `close` finishes it."""
    require_perm(actor, "portal.change_ownerrequest")
    require_estate(actor, item.estate_id)
    item = OwnerRequest.objects.select_for_update().get(pk=item.pk)
    if item.status == OwnerRequest.Status.CLOSED:
        raise DomainError("this request is closed", field="status")
    if close and not (answer or item.answer).strip():
        raise DomainError("write the answer before closing", field="answer")
    item.answer = (answer or item.answer).strip()
    item.status = OwnerRequest.Status.CLOSED if close else OwnerRequest.Status.IN_PROGRESS
    item.handled_by = actor
    item.handled_at = timezone.now()
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=item, summary=item.status)
    return item
