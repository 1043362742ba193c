"""The database's time limits and the answer when one is reached.

A web request must never wait long for a lock or a slow query: one transaction holding a
lock for 90 s once hung every request thread and the login page. On PostgreSQL each
connection of a web process gets `statement_timeout` and `lock_timeout` (settings.py,
DB_STATEMENT_TIMEOUT / DB_LOCK_TIMEOUT); the worker and commands get longer ones (billing
runs, imports). SQLite's equivalent is its busy timeout ("database is locked").

A request stopped by one of them answers 503 with a page (or JSON under /api/) in the
user's language that says to try again, instead of a 500: nothing was half-written, the
transaction was rolled back."""

from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# PostgreSQL SQLSTATEs: query_canceled (statement_timeout), lock_not_available (lock_timeout).
TIMEOUT_STATES = {"57014", "55P03"}


def is_timeout(exc: BaseException) -> bool:
    """True for a database error that is a time limit reached, not a bug."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if state in TIMEOUT_STATES:
        return True
    return "database is locked" in str(exc)  # SQLite: the busy timeout ran out


def busy_response(request):
    title = _("The system is busy")
    text = _(
        "Another task is holding the records you need (a billing run, an import, a day-end "
        "close). Nothing was saved. Wait a moment and try again."
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": str(text), "code": "busy"}, status=503)
    else:
        context = {"status": 503, "error_title": title, "error_text": text, "error_tone": "warning"}
        response = render(request, "error_page.html", context, status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseTimeoutMiddleware:
    """Turns a database time limit reached in a view into the 503 above."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_timeout(exception):
            return busy_response(request)
        return None
