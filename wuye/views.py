from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions

from wuye.accounts.roles import roles_of


@login_required
def home(request):
    from wuye.registry.selectors import estates_for

    estates = estates_for(request.user)
    return render(request, "core/home.html", {"estates": estates, "roles": roles_of(request.user)})


class ApiDocs(SpectacularSwaggerSplitView):
    """The API's docs page; a visitor who is not signed in is sent to the login page (the
    schema itself answers 401/403: settings.API_DOCS_PUBLIC, ApiDocsPermission). Its script
    is served apart (`?script`) and its style carries the nonce: the Content-Security-Policy
    runs no inline code."""

    template_name = "core/api_docs.html"

    def handle_exception(self, exc):
        denied = (exceptions.NotAuthenticated, exceptions.PermissionDenied)
        if isinstance(exc, denied) and not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


# --- error pages: styled, in the user's language (issue 13 §4) --------------------------------
ERRORS = {
    400: (
        _("The request could not be read"),
        _(
            "Something in the address or the form is not valid (a date that does not exist, a "
            "number that is not a number). Check what you entered and try again."
        ),
        "warning",
    ),
    403: (
        _("You may not do this"),
        _(
            "Your role does not allow this page or action. If you need it for your work, ask "
            "your supervisor to grant the role or the estate."
        ),
        "warning",
    ),
    404: (
        _("Not found"),
        _(
            "There is no such page, or the record is not in an estate you are assigned to. "
            "Check the address, or search for the record from the list."
        ),
        "secondary",
    ),
    500: (
        _("Something went wrong on our side"),
        _(
            "The error has been logged and nothing was half-saved. Try again in a moment; if "
            "it happens again, tell your supervisor what you were doing."
        ),
        "danger",
    ),
}


# Under /api/ an error is the API's error object (wuye/core/api_schema.py: ApiError), never a
# page: an address no view matches (an id that is not a number, a bigint overflow), a NUL byte
# (core.badinput) or a crash outside DRF's own handler.
API_PREFIX = "/api/"
API_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "server_error"}


def _api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(status: int):
    return JsonResponse(
        {"detail": str(ERRORS[status][0]), "code": API_CODES[status]}, status=status
    )


def _error(request, status: int, **extra):
    if _api(request):
        return _api_error(status)
    title, text, tone = ERRORS[status]
    context = {"status": status, "error_title": title, "error_text": text, "error_tone": tone}
    return render(request, "error_page.html", context | extra, status=status)


def bad_request(request, exception=None):
    """The 400 page; a query parameter that cannot be read (core.params) is named."""
    from wuye.core.params import BadParameter

    if isinstance(exception, BadParameter):
        if _api(request):
            body = {"detail": exception.message, "code": "invalid", "field": exception.name}
            return JsonResponse(body, status=400)
        return _error(request, 400, error_detail=exception.message, error_parameter=exception.name)
    return _error(request, 400)


def permission_denied(request, exception=None):
    return _error(request, 403)


def page_not_found(request, exception=None):
    return _error(request, 404)


def server_error(request):
    """No template context processors may be trusted here (the error may be in one): a page
    of its own, still in the user's language."""
    from django.template import loader

    if _api(request):
        return _api_error(500)
    title, text, _tone = ERRORS[500]
    body = loader.get_template("error_500.html").render({"error_title": title, "error_text": text})
    return HttpResponseServerError(body)
