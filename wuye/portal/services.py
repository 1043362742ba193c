"""Writes of the owners' portal: sign-in codes (through the notifications outbox), the
owner's requests, and staff answering them.

Sign-in without account enumeration: any well-formed mobile number may ask for a code, and
gets the same answer and the same limits whether or not it belongs to an owner, and the
request does the same work either way (the send job, run by the worker, finds out whether the
number is an owner's); only an owner's number is actually sent a code. Limits (per number:
one a minute, five an hour; per address: twenty an hour; five attempts per code; codes live
ten minutes) are settings of WUYE_PORTAL.

The owners' app (api.py) signs in with the same codes and then holds a token (`OwnerToken`,
stored hashed); it pays and raises requests through the same services as the H5 pages."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.billing.models import Charge
from wuye.collection.models import Reason
from wuye.collection.services.disputes import dispute_raise
from wuye.collection.services.workbench import owner_request_received
from wuye.core.errors import DomainError
from wuye.core.normalize import MOBILE, clean_phone
from wuye.notifications.models import Purpose
from wuye.notifications.services import message_queue
from wuye.online import services as online
from wuye.online.models import PaymentOrder
from wuye.registry.models import Party, Unit, UnitParty
from wuye.registry.services import require_estate, require_perm

from .models import LoginCode, OwnerRequest, OwnerToken

DEFAULTS = {
    "code_minutes": 10,
    "code_attempts": 5,
    "resend_seconds": 60,
    "codes_per_hour": 5,
    "codes_per_ip_hour": 20,
    # The owners' app: a token lapses this long after its last use, and this long after
    # sign-in whatever happens; its last use is written at most once per `token_touch_seconds`.
    "token_idle_days": 30,
    "token_max_days": 180,
    "token_touch_seconds": 3600,
    # The app's sign-in endpoints, throttled per address and per phone (DRF rates).
    "api_auth_ip_rate": "30/min",
    "api_auth_phone_rate": "10/min",
}
GENERIC_FAILURE = gettext_noop("the code is wrong or has expired; ask for a new one")


def portal_settings() -> dict:
    return DEFAULTS | getattr(settings, "WUYE_PORTAL", {})


def _hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"portal-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_mobile(value: str) -> str:
    phone = clean_phone(value).replace("-", "")
    if not MOBILE.match(phone):
        raise DomainError(_("enter an 11-digit mobile number"), field="phone")
    return phone


def _one_at_a_time(*names: str) -> None:
    """Requests for the same phone (or address) wait for each other until commit, so that
    the limits below count every code sent: without this, ten requests at the same moment
    all count the same few codes and all send (SMS bombing). PostgreSQL: transaction-level
    advisory locks, taken in a fixed order; SQLite serialises writing transactions anyway
    (BEGIN IMMEDIATE)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


@transaction.atomic
def code_request(*, phone: str, ip: str = "", now: datetime | None = None) -> LoginCode:
    """Make a code for `phone` and hand it to the send job (`code_send`), which sends it by
    SMS through the outbox if the number is an owner's. The request does the same work, the
    same statements, for every well-formed number (whether it is an owner's is not even
    looked up here), so neither the answer nor its time tells who is an owner; the caller
    shows the same words either way."""
    from .tasks import send_code

    conf = portal_settings()
    now = now or timezone.now()
    phone = normalize_mobile(phone)
    _one_at_a_time(f"portal-code:{phone}", f"portal-code-ip:{ip}")
    recent = LoginCode.objects.filter(phone=phone, created_at__gte=now - timedelta(hours=1))
    last = recent.order_by("-created_at").first()
    if last and (now - last.created_at).total_seconds() < conf["resend_seconds"]:
        raise DomainError(
            _("a code was sent a moment ago; wait a minute"), field="phone", code="wait"
        )
    if recent.count() >= conf["codes_per_hour"]:
        raise DomainError(_("too many codes for this number; try again later"), field="phone")
    if ip and (
        LoginCode.objects.filter(ip=ip, created_at__gte=now - timedelta(hours=1)).count()
        >= conf["codes_per_ip_hour"]
    ):
        raise DomainError(_("too many codes from here; try again later"), field="phone")
    code = f"{secrets.randbelow(10**6):06d}"
    row = LoginCode.objects.create(
        phone=phone,
        code_hash=_hash(phone, code),
        code_sealed=code,
        ip=ip[:45],
        created_at=now,
        expires_at=now + timedelta(minutes=conf["code_minutes"]),
    )
    transaction.on_commit(lambda: send_code.enqueue(row.pk))
    return row


@transaction.atomic
def code_send(*, code_id: int, now: datetime | None = None) -> bool:
    """The send job of a code request: if the number is an owner's and the code is still
    live, queue the code as a one-time-code SMS (a secret message: staff never read it);
    else send nothing. The sealed code is blanked either way, and a second run does nothing.
    True when a message was queued."""
    now = now or timezone.now()
    row = LoginCode.objects.select_for_update().filter(pk=code_id).first()
    if row is None or not row.code_sealed:
        return False
    code = row.code_sealed
    LoginCode.objects.filter(pk=row.pk).update(code_sealed="")
    if row.expires_at <= now or row.used_at is not None:
        return False
    party = Party.objects.select_related("estate").filter(mobile=row.phone).order_by("pk").first()
    if party is None:
        return False
    message_queue(
        party=party,
        purpose=Purpose.ONE_TIME_CODE,
        channel="sms",
        context={"code": code},
        dedupe_key=f"portal-code:{row.pk}",
        now=now,
    )
    LoginCode.objects.filter(pk=row.pk).update(sent=True)
    return True


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
        raise DomainError(_(GENERIC_FAILURE), field="code", code="bad_code")
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
        raise DomainError(_("choose a dispute or a hardship request"), field="kind")
    text = (text or "").strip()
    if len(text) < 5:
        raise DomainError(_("tell us a little more (at least 5 characters)"), field="text")
    if unit is not None and not party.relations.filter(unit=unit).exists():
        raise DomainError(_("that is not one of your units"), field="unit")
    ids = [int(i) for i in (charge_ids or [])]
    if ids and Charge.objects.filter(pk__in=ids, party=party).count() != len(set(ids)):
        raise DomainError(_("a charge is not one of yours"), field="charges")
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
        summary=Summary(
            gettext_noop("owner raised: %(kind)s"), words=["kind"], kind=item.get_kind_display()
        ),
    )
    # The owner's arrears case is opened (overdue charges and no open case) or updated: the
    # request is in its contact log; hardship is its reason, with a call-back task and a
    # short pause of the reminders (collection.services.workbench).
    owner_request_received(
        party=party,
        reason=Reason.DISPUTE if kind == OwnerRequest.Kind.DISPUTE else Reason.HARDSHIP,
        request_id=item.pk,
        text=text,
    )
    if kind == OwnerRequest.Kind.DISPUTE:
        # A service dispute pauses the owner's dunning and opens a work order at once;
        # customer service triages it (category "other") and reroutes it if need be.
        dispute_raise(
            actor=None,
            party=party,
            category="other",
            description=text,
            amount=sum(c.outstanding for c in Charge.objects.filter(pk__in=ids)) if ids else None,
            portal_request_id=item.pk,
        )
    return item


@transaction.atomic
def request_answer(*, actor, item: OwnerRequest, answer: str, close: bool) -> OwnerRequest:
    """Staff take the request on (and answer it); `close` finishes it."""
    require_perm(actor, "portal.change_ownerrequest")
    require_estate(actor, item.estate_id)
    item = OwnerRequest.objects.select_for_update().get(pk=item.pk)
    if item.status == OwnerRequest.Status.CLOSED:
        raise DomainError(_("this request is closed"), field="status")
    if close and not (answer or item.answer).strip():
        raise DomainError(_("write the answer before closing"), field="answer")
    item.answer = (answer or item.answer).strip()
    item.status = OwnerRequest.Status.CLOSED if close else OwnerRequest.Status.IN_PROGRESS
    item.handled_by = actor
    item.handled_at = timezone.now()
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=item, summary=item.status)
    return item


# --- the owners' app (REST API) ----------------------------------------------------------------


def _key_hash(key: str) -> str:
    # The key is 256 random bits: a plain SHA-256 is as good as a slow hash here, and lets
    # the token be found by its hash in one indexed lookup.
    return hashlib.sha256(key.encode()).hexdigest()


def _token_expiry(token: OwnerToken, now: datetime) -> datetime:
    conf = portal_settings()
    return min(
        now + timedelta(days=conf["token_idle_days"]),
        token.created_at + timedelta(days=conf["token_max_days"]),
    )


def token_create(
    *, phone: str, code: str, ip: str = "", user_agent: str = "", now: datetime | None = None
) -> tuple[OwnerToken, str]:
    """Sign the owners' app in with the code sent to `phone` (`code_verify`: its limits, and
    one answer for every failure). Returns the token and its key; the key is shown this once
    and kept only as a hash."""
    now = now or timezone.now()
    # Not inside a transaction of ours: a failed attempt must stay counted.
    code_verify(phone=phone, code=code, now=now)
    key = secrets.token_urlsafe(32)
    token = OwnerToken(
        key_hash=_key_hash(key),
        phone=normalize_mobile(phone),
        created_at=now,
        last_used_at=now,
        ip=ip[:45],
        user_agent=user_agent[:200],
    )
    token.expires_at = _token_expiry(token, now)
    token.save()
    return token, key


def token_authenticate(*, key: str, now: datetime | None = None) -> OwnerToken | None:
    """The live token with this key, its life extended (sliding) when last used a while ago;
    None for an unknown, revoked or expired key."""
    if not key or len(key) > 128:
        return None
    now = now or timezone.now()
    token = OwnerToken.objects.filter(key_hash=_key_hash(key)).first()
    if token is None or not token.is_live(now):
        return None
    if (now - token.last_used_at).total_seconds() >= portal_settings()["token_touch_seconds"]:
        token.last_used_at, token.expires_at = now, _token_expiry(token, now)
        OwnerToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            last_used_at=token.last_used_at, expires_at=token.expires_at
        )
    return token


def token_revoke(*, token: OwnerToken, now: datetime | None = None) -> None:
    """Sign the app out: the token no longer opens anything."""
    OwnerToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def session_open(*, phone: str, max_age_seconds: int, now: datetime | None = None) -> str:
    """The server side of a portal sign-in (the code already verified): a session stored
    hashed like the app's tokens, for `max_age_seconds`. Returns its key for the cookie."""
    now = now or timezone.now()
    key = secrets.token_urlsafe(32)
    OwnerToken.objects.create(
        key_hash=_key_hash(key),
        phone=phone,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=max_age_seconds),
        user_agent="portal",
    )
    return key


def session_phone(*, key: str, now: datetime | None = None) -> str | None:
    """The phone of the live portal session with this key; None once it is closed."""
    if not key or len(key) > 128:
        return None
    token = OwnerToken.objects.filter(key_hash=_key_hash(key)).first()
    return token.phone if token is not None and token.is_live(now or timezone.now()) else None


def session_close(*, key: str, now: datetime | None = None) -> None:
    """Sign the portal out on the server: the cookie no longer opens anything."""
    OwnerToken.objects.filter(key_hash=_key_hash(key), revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def owner_api_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Forget tokens dead (lapsed or revoked) for a month, and expired codes that were never
    handed to their send job. Safe to run at any time. The owners'
    idempotency records live with the staff API's and go with them
    (`wuye.audit.idempotency.idempotency_records_purge`, job audit.purge_idempotency_records)."""
    now = now or timezone.now()
    month_ago = now - timedelta(days=30)
    tokens, _by_model = OwnerToken.objects.filter(expires_at__lt=month_ago).delete()
    revoked, _by_model = OwnerToken.objects.filter(revoked_at__lt=month_ago).delete()
    # A code whose send job never ran (worker down) is not kept past its life.
    codes = LoginCode.objects.filter(expires_at__lt=now).exclude(code_sealed="")
    return {"tokens": tokens + revoked, "codes": codes.update(code_sealed="")}


# What the app pays by when it does not say: a QR code / sandbox wallet for WeChat Pay (the
# app has no openid unless it passes one), Alipay's mobile pay page.
DEFAULT_KINDS = {"wechat": "native", "alipay": "wap"}


def owner_order_create(
    *,
    parties: list[Party],
    charge_ids: list[int],
    provider: str,
    kind: str = "",
    openid: str = "",
    client_ip: str = "",
    return_url: str = "",
) -> PaymentOrder:
    """An owner's payment order for charges of theirs, through the online service the H5
    pay page uses (`order_create`: open, payable online, one merchant account). Every
    charge must belong to one of the owner's parties, and all to the same one (an owner with
    units in two estates pays each estate separately)."""
    if provider not in DEFAULT_KINDS:
        raise DomainError(_("choose WeChat Pay or Alipay"), field="provider")
    ids = list(dict.fromkeys(int(i) for i in charge_ids))
    if not ids:
        raise DomainError(_("choose at least one charge to pay"), field="charge_ids")
    owner_of = dict(
        Charge.objects.filter(pk__in=ids, party__in=parties).values_list("pk", "party_id")
    )
    for charge_id in ids:
        if charge_id not in owner_of:
            raise DomainError(
                _("charge %(id)s is not one of yours") % {"id": charge_id}, field="charge_ids"
            )
    if len(set(owner_of.values())) > 1:
        raise DomainError(_("pay the charges of each estate separately"), field="charge_ids")
    party = next(p for p in parties if p.pk == owner_of[ids[0]])
    kind = kind or DEFAULT_KINDS[provider]
    if kind == "jsapi":
        openid = openid or party.wechat_openid
    return online.order_create(
        party=party,
        charge_ids=ids,
        provider=provider,
        kind=kind,
        openid=openid if kind == "jsapi" else "",
        client_ip=client_ip,
        return_url=return_url,
    )


def owner_request_raise(
    *,
    parties: list[Party],
    kind: str,
    text: str,
    unit_id: int | None = None,
    charge_ids: list[int] | None = None,
    phone: str = "",
) -> OwnerRequest:
    """`request_raise` for the owner behind `parties`: raised as the party of the unit named
    (or of the charges named), so that it reaches that estate's staff."""
    party = parties[0]
    unit = None
    if unit_id is not None:
        relation = (
            UnitParty.objects.select_related("unit")
            .filter(party__in=parties, unit_id=unit_id)
            .order_by(F("end_date").asc(nulls_first=True), "-start_date", "pk")
            .first()
        )
        if relation is None:
            raise DomainError(_("that is not one of your units"), field="unit")
        unit = relation.unit
        party = next(p for p in parties if p.pk == relation.party_id)
    elif charge_ids:
        first = (
            Charge.objects.filter(pk__in=charge_ids, party__in=parties)
            .order_by("pk")
            .values_list("party_id", flat=True)
            .first()
        )
        party = next((p for p in parties if p.pk == first), party)
    return request_raise(
        party=party, kind=kind, text=text, unit=unit, charge_ids=charge_ids, phone=phone
    )
