"""The owner's session: a signed cookie holding the verified phone, apart from the staff's
Django session and auth. The parties are looked up by that phone on every request, so an
owner who is no longer on the register sees nothing."""

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
    value = signing.dumps({"phone": phone, "at": int(time.time())}, salt=SALT, compress=True)
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def sign_out(response) -> None:
    response.delete_cookie(COOKIE)


def owner_phone(request) -> str | None:
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return data.get("phone") or None


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
