"""The API's page size: `limit` at most MAX_LIMIT rows, `offset` a sane number; anything
else (a word, a negative number, 10043014950051753984) is a 400 naming the parameter, not a
silent default and not a 500. `?limit=700000` eight times once made the site unresponsive."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 10**9


def _whole_number(request, name: str, default: int | None, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) > maximum:
        raise ValidationError(
            {name: _("a whole number from 0 to %(max)s") % {"max": maximum}}, code="invalid"
        )
    return int(raw)


class CappedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        limit = _whole_number(request, self.limit_query_param, self.default_limit, MAX_LIMIT)
        return limit if limit else self.default_limit

    def get_offset(self, request):
        return _whole_number(request, self.offset_query_param, 0, MAX_OFFSET)
