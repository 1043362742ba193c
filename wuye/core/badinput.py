"""Input no page can mean, refused before any view reads it (issue 12 §8): a NUL byte in the
address, a query parameter or a form field is a 400 (databases refuse NUL in text, and no
person types one); an id in the address too large for a database integer is a 404 (there
is no such record). Impossible dates and ids that are not numbers are refused where they
are read (`core.normalize.as_id`, `as_date`); tests/test_hostile_params.py walks every GET
endpoint with such parameters and asserts no 5xx."""

from django.core.exceptions import BadRequest
from django.http import Http404

BIGINT_MAX = 2**63 - 1


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or _has_nul(request.GET):
            raise BadRequest("NUL byte in the address")
        if request.method == "POST" and self._form(request) and _has_nul(request.POST):
            raise BadRequest("NUL byte in a form field")
        return self.get_response(request)

    @staticmethod
    def _form(request) -> bool:
        """A browser's form (what request.POST parses), not a payment provider's signed
        callback: those keep their own answer (the inbox stores what came)."""
        from django.conf import settings

        if any(request.path_info.startswith(p) for p in settings.CALLBACK_PATHS):
            return False
        return request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")

    def process_view(self, request, view_func, view_args, view_kwargs):
        for value in [*view_args, *view_kwargs.values()]:
            if isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX:
                raise Http404("no such record")
        return None
