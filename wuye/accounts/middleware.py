"""A staff member given a temporary password chooses their own before any other page.

Whether they must is read once, at login (`signals.record_login` puts it in the session: a
supervisor's reset changes the password, which ends every session of the account), so
pages cost no extra query."""

from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "wuye_must_change_password"
# Open while the password waits to be changed: the change itself, logging out, the language
# switch; the API, the owners' portal, the providers' callbacks and sandbox wallet, the public
# receipt check and static files are not staff pages.
_OPEN = (
    "/accounts/",
    "/i18n/",
    "/static/",
    "/api/",
    "/owner/",
    "/pay/notify/",
    "/pay/sandbox/",
    "/r/",
)


class PasswordChangeRequired:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.get(SESSION_KEY)
            and not request.path.startswith(_OPEN)
            and request.user.is_authenticated
        ):
            return redirect(f"{reverse('password_change')}?next={request.path}")
        return self.get_response(request)
