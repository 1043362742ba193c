"""How the owners' app signs in to /api/v1/owner/...: `Authorization: Owner <key>`.

The token names a verified phone, as the H5 portal's cookie does, and the owner's parties are
looked up by that phone on every request (an owner removed from the register is refused).
Owner endpoints accept only this scheme, and staff endpoints never accept it: a staff token or
session opens no owner endpoint, an owner token no staff endpoint. Owners are not Django
users, so `request.user` is an `OwnerPrincipal` holding no permission at all.

Also here: the throttles of the sign-in endpoints (per address and per phone) and
`owner_key_holder`, who holds an owner endpoint's `Idempotency-Key` (the phone), for
`wuye.audit.idempotency.idempotent_for`."""

import hashlib

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from wuye.audit.middleware import client_ip

from . import services, session
from .models import OwnerToken

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
def owner_key_holder(request) -> str | None:
    """Owners' keys are held per signed-in phone (owners are not users), in the same table and
    with the same rules as the staff API's: `@idempotent_for(owner_key_holder)`."""
    phone = getattr(request, "owner_phone", None)
    return f"owner:{phone}" if phone else None
