"""How the owners' app signs in to /api/v1/owner/...: `Authorization: Owner <key>`.

The token names a verified phone, as the H5 portal's cookie does, and the owner's parties are
looked up by that phone on every request (an owner removed from the register is refused).
Owner endpoints accept only this scheme, and staff endpoints never accept it: a staff token or
session opens no owner endpoint, an owner token no staff endpoint. Owners are not Django
users, so `request.user` is an `OwnerPrincipal` holding no permission at all.

Also here: the throttles of the sign-in endpoints (per address and per phone) and
`owner_idempotent`, the owners' `Idempotency-Key` (keyed by phone, since the audit app's
decorator keys by staff user)."""

import functools
import hashlib

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, permissions, throttling

from wuye.audit import idempotency
from wuye.audit.middleware import client_ip

from . import services, session
from .models import OwnerIdempotencyRecord, OwnerToken

KEYWORD = "Owner"


class OwnerPrincipal:
    """`request.user` on owner endpoints: a signed-in owner, not a staff user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None
    username = ""

    def __init__(self, phone: str, parties: list):
        self.phone = phone
        self.parties = parties

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def get_username(self) -> str:
        return ""

    def __str__(self) -> str:
        return f"owner {self.phone[:3]}****{self.phone[-4:]}"


class OwnerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Owner <key>` -> the owner; sets `request.owner_phone` and
    `request.owner_parties` as the portal's cookie does. Any other scheme is not ours."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Owner <token>."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            key = ""
        token = services.token_authenticate(key=key)
        parties = list(session.parties_of(token.phone)) if token else []
        if not parties:
            raise exceptions.AuthenticationFailed(
                _("This sign-in has expired or was revoked; sign in again.")
            )
        for target in (request, request._request):
            target.owner_phone = token.phone
            target.owner_parties = parties
        return OwnerPrincipal(token.phone, parties), token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with this challenge), not 403, when no token was sent.
        return KEYWORD


class IsOwner(permissions.BasePermission):
    """Only a request signed in with an owner token."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, OwnerToken) and isinstance(request.user, OwnerPrincipal)


class OwnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = OwnerTokenAuthentication
    name = "ownerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "The owners' app: `Owner <token>`, the token from POST /api/v1/owner/auth/token."
            ),
        }


# --- throttles of the sign-in endpoints ----------------------------------------------------
class _SignInThrottle(throttling.SimpleRateThrottle):
    """Rates from WUYE_PORTAL (read per request, so settings apply at once)."""

    rate_setting = ""

    def get_rate(self) -> str:
        return services.portal_settings()[self.rate_setting]


class SignInAddressThrottle(_SignInThrottle):
    scope = "owner_sign_in_ip"
    rate_setting = "api_auth_ip_rate"

    def get_cache_key(self, request, view) -> str:
        ident = client_ip(request) or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignInPhoneThrottle(_SignInThrottle):
    scope = "owner_sign_in_phone"
    rate_setting = "api_auth_phone_rate"

    def get_cache_key(self, request, view) -> str | None:
        raw = request.data.get("phone") if hasattr(request.data, "get") else None
        digits = "".join(ch for ch in str(raw or "") if ch.isdigit())[-11:]
        if not digits:
            return None
        ident = hashlib.sha256(digits.encode()).hexdigest()[:32]  # no phone numbers in the cache
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- Idempotency-Key for owners --------------------------------------------------------------
def owner_idempotent(handler):
    """`wuye.audit.idempotency.idempotent` for owner endpoints: the same `Idempotency-Key` from
    the same phone gets the first (2xx) answer, replayed without writing again; the same key
    with a different request is refused with 422; a refused request forgets the key. Two
    racing requests with one key are decided by the UNIQUE (phone, key) constraint."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(idempotency.HEADER)
        phone = getattr(request, "owner_phone", None)
        if key is None or not phone:
            return handler(view, request, *args, **kwargs)
        key = key.strip()
        limit = idempotency.MAX_KEY_LENGTH
        if not key or len(key) > limit or not key.isprintable() or not key.isascii():
            return idempotency._refuse(
                f"{idempotency.HEADER} must be 1 to {limit} printable ASCII characters", 400
            )
        fingerprint = idempotency._fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = OwnerIdempotencyRecord.objects.create(
                        phone=phone,
                        key=key,
                        method=request.method,
                        path=request.path[:255],
                        fingerprint=fingerprint,
                    )
            except IntegrityError:
                first = OwnerIdempotencyRecord.objects.get(phone=phone, key=key)
                if first.fingerprint != fingerprint:
                    return idempotency._refuse(
                        f"this {idempotency.HEADER} was already used for a different request "
                        f"({first.method} {first.path}); use a new key",
                        422,
                    )
                return idempotency._replay(first)
            response = handler(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)  # the client may correct it and retry the key
                return response
            record.status = response.status_code
            record.body = idempotency._serialised(response)
            record.save(update_fields=["status", "body"])
            return response

    return extend_schema(
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Any unique string (a UUID) chosen by the app. Sending the same key again "
                    "returns the first response without writing again; the same key with a "
                    "different request is refused with 422."
                ),
            )
        ]
    )(wrapper)
