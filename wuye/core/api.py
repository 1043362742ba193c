"""Shared pieces of the REST API: domain errors as 400/403, missing objects as 404."""

from django.http import Http404
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError
from .errors import PermissionDenied as DomainPermissionDenied
from .params import BadParameter


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
    return drf_exception_handler(exc, context)
