"""Idempotent API writes: the same `Idempotency-Key` from the same holder gets the first answer.

A client that retries a write (a timeout, a double click, a flaky mobile network) sends the same
`Idempotency-Key` header again. The first request claims the key by inserting an
`IdempotencyRecord` and runs the handler in the same transaction; the response is stored with the
claim and committed together with the write. A repeat of the key returns the stored response and
writes nothing. Two racing requests with one key are decided by the UNIQUE (holder, key)
constraint, never by an exists() check: on PostgreSQL the second INSERT waits for the first
transaction and then fails, on SQLite the second transaction waits for the write lock
(`transaction_mode=IMMEDIATE`); either way the loser replays the winner's response.

Only successful (2xx) responses are kept. A refused request (400, 403, 404 ...) rolls back its
claim, so the client may correct the request and send it again with the same key. The same key
with a different method, path or body is refused with 422 (as draft-ietf-httpapi-idempotency-key
-header says), because replaying an answer to another question would be wrong.

The holder is whoever owns the key: a staff user (`idempotent`, holder "user:<pk>") or, for
callers that are not Django users, whatever `idempotent_for(holder=...)` names (the owners' app
uses "owner:<phone>"). Keys of different holders never meet, and one table and one purge serve
them all.

Usage, on a DRF view method (after authentication and permission checks have run)::

    class UnitList(GenericAPIView):
        @idempotent
        def post(self, request): ...

    class OrderList(OwnerView):
        @idempotent_for(lambda request: f"owner:{request.owner_phone}")
        def post(self, request): ...

This lives in the audit app (a low layer every app may import) so that billing, payments and the
owners' app use the same mechanism. DRF and drf-spectacular are imported lazily: this module is
loaded while the app registry is still being populated (through wuye/audit/models.py).
"""

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
MAX_HOLDER_LENGTH = 64
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(models.Model):
    """The first successful response to an API write sent with an `Idempotency-Key`."""

    # Who owns the key: "user:<pk>" for staff, "owner:<phone>" for the owners' app.
    holder = models.CharField(_("key holder"), max_length=MAX_HOLDER_LENGTH)
    key = models.CharField(_("idempotency key"), max_length=MAX_KEY_LENGTH)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=255)
    # sha256 of method, full path (with query string) and the parsed body, to refuse a key reused
    # for a different request.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    # 0 while the first request runs; that state is never committed (same transaction).
    status = models.PositiveSmallIntegerField(_("response status"), default=0)
    body = models.TextField(_("response body (JSON)"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "audit"
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["holder", "key"], name="idempotency_holder_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


def _fingerprint(request) -> str:
    from rest_framework.utils.encoders import JSONEncoder

    data = request.data
    if hasattr(data, "lists"):  # QueryDict (form or multipart body)
        data = {name: values for name, values in data.lists()}
    payload = json.dumps(
        [request.method, request.get_full_path(), data],
        sort_keys=True,
        cls=JSONEncoder,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _refuse(message: str, status: int):
    from rest_framework.response import Response

    return Response({"detail": message, "code": "idempotency", "field": HEADER}, status=status)


def _replay(record: IdempotencyRecord):
    from rest_framework.response import Response

    data = json.loads(record.body) if record.body else None
    response = Response(data, status=record.status)
    response[REPLAYED_HEADER] = "true"
    return response


def _serialised(response) -> str:
    from rest_framework.utils.encoders import JSONEncoder

    data = getattr(response, "data", None)
    return "" if data is None else json.dumps(data, cls=JSONEncoder, ensure_ascii=False)


def staff_holder(request) -> str | None:
    """The signed-in staff user; None (not deduplicated) for anonymous requests."""
    user = request.user
    if not user.is_authenticated or user.pk is None:
        return None
    return f"user:{user.pk}"


def idempotent_for(holder: Callable[[object], str | None]):
    """A decorator making a DRF view method (post, patch, put, delete) honour the
    `Idempotency-Key` header, with keys held by `holder(request)`.

    `holder` runs after authentication and returns a short string naming who owns the key, or
    None to run the handler without deduplication. Without the header the handler runs as
    usual."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            held_by = holder(request) if key is not None else None
            if held_by is None:
                return handler(view, request, *args, **kwargs)
            return _run_once(held_by, key, handler, view, request, *args, **kwargs)

        return _documented(wrapper)

    return decorate


def _run_once(held_by: str, key: str, handler, view, request, *args, **kwargs):
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        return _refuse(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters", 400)
    if len(held_by) > MAX_HOLDER_LENGTH:  # a programming error, not the client's
        raise ValueError(f"an idempotency key holder is {MAX_HOLDER_LENGTH} characters at most")
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    holder=held_by,
                    key=key,
                    method=request.method,
                    path=request.path[:255],
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            first = IdempotencyRecord.objects.get(holder=held_by, key=key)
            if first.fingerprint != fingerprint:
                return _refuse(
                    f"this {HEADER} was already used for a different request "
                    f"({first.method} {first.path}); use a new key",
                    422,
                )
            return _replay(first)
        response = handler(view, request, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            # Forget the claim: the client may fix the request and retry with the same key.
            transaction.set_rollback(True)
            return response
        record.status = response.status_code
        record.body = _serialised(response)
        record.save(update_fields=["status", "body"])
        return response


def _documented(wrapper):
    from drf_spectacular.utils import OpenApiParameter, extend_schema

    return extend_schema(
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Any unique string (a UUID) chosen by the client. Sending the same key again "
                    "returns the first response without writing again; the same key with a "
                    "different request is refused with 422."
                ),
            )
        ]
    )(wrapper)


# The staff API's decorator: keys held per user.
idempotent = idempotent_for(staff_holder)


def idempotency_records_purge(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete records of every holder (staff and owners) older than `older_than` (a retry
    comes within minutes, not weeks)."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
