"""Shared pieces of the REST API: domain errors as 400/403, missing objects as 404, a number
the database cannot hold as 400."""

from django.db import DataError
from django.http import Http404
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError
from .errors import PermissionDenied as DomainPermissionDenied
from .params import BadParameter

# PostgreSQL's numeric_value_out_of_range; SQLite's driver raises OverflowError instead.
OUT_OF_RANGE_STATE = "22003"


def is_out_of_range(exc: BaseException) -> bool:
    """A number in the request beyond the database's integers (an id of 2**70): the client's
    mistake, not a crash. Serializers bound their ids (`core.badinput.BIGINT_MAX`); this is
    the net under the ones that do not."""
    if isinstance(exc, OverflowError):
        return True
    if isinstance(exc, DataError):
        cause = exc.__cause__
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        return state == OUT_OF_RANGE_STATE
    return False


def exception_handler(exc, context):
    if isinstance(exc, DomainPermissionDenied):
        return Response({"detail": exc.message, "code": exc.code}, status=403)
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=400)
    if isinstance(exc, BadParameter):
        return Response({"detail": exc.message, "code": "invalid", "field": exc.name}, status=400)
    if isinstance(exc, Http404):
        return Response({"detail": "not found"}, status=404)
    if is_out_of_range(exc):
        return Response({"detail": "a number is out of range", "code": "out_of_range"}, status=400)
    return drf_exception_handler(exc, context)
