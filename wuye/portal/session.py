"""The owner's session: a signed cookie holding the verified phone and the key of a
server-side session (an `OwnerToken`, as the app's), apart from the staff's Django session
and auth. Signing out revokes that session, so a copied cookie replayed after logout opens
nothing. The parties are looked up by that phone on every request, so an owner who is no
longer on the register sees nothing."""

import time
from functools import wraps

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect

from wuye.registry.models import Party

COOKIE = "wuye_owner"
SALT = "wuye.portal.owner"
MAX_AGE = 2 * 60 * 60


def sign_in(response, phone: str) -> None:
    from .services import session_open

    key = session_open(phone=phone, max_age_seconds=MAX_AGE)
    value = signing.dumps(
        {"phone": phone, "key": key, "at": int(time.time())}, salt=SALT, compress=True
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _cookie(request) -> dict:
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return {}
    try:
        return signing.loads(raw, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return {}


def sign_out(request, response) -> None:
    from .services import session_close

    key = _cookie(request).get("key")
    if key:
        session_close(key=key)
    response.delete_cookie(COOKIE)


def owner_phone(request) -> str | None:
    from .services import session_phone

    data = _cookie(request)
    if not data.get("phone") or not data.get("key"):
        return None
    return data["phone"] if session_phone(key=data["key"]) == data["phone"] else None


def parties_of(phone: str):
    return Party.objects.select_related("estate").filter(mobile=phone).order_by("estate_id", "pk")


def owner_required(view):
    """The view gets `request.owner_phone` and `request.owner_parties` (a list), or the
    owner is sent to sign in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        phone = owner_phone(request)
        parties = list(parties_of(phone)) if phone else []
        if not parties:
            return redirect("portal:login")
        request.owner_phone = phone
        request.owner_parties = parties
        return view(request, *args, **kwargs)

    return wrapped
