"""Writing audit rows. Call `audit_record` inside the same transaction as the change.

Also who acts when no person does: `SystemActor` (see there)."""

from decimal import Decimal
from typing import Any

from django.db import models

from . import context
from .models import AuditEvent
from .summaries import Summary


class SystemActor:
    """The system itself as the actor of a service: posting a payment a provider confirmed
    (a verified notification, an active query), a bank reported (auto-debit return file,
    transfer import), or a command run by the server's operator.

    It passes every permission check (`has_perm`) and sees every estate (`visible_estate_ids`
    reads `_wuye_estate_ids = None`: all), so services need no special case for it. It is
    not a user: `pk` is None, audit rows link no user and name it in `actor_name`, documents
    it issues have no `created_by`. Services taking `actor=None` act as `SYSTEM`; named
    instances (`SystemActor("online-payments")`) say which part of the system acted."""

    pk = None
    id = None
    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    _wuye_estate_ids = None  # registry.selectors.visible_estate_ids: all estates

    def __init__(self, username: str):
        self.username = username

    def has_perm(self, perm: str, obj=None) -> bool:
        return True

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"SystemActor({self.username!r})"


SYSTEM = SystemActor("system")


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-safe picture of a model instance's concrete fields (encrypted fields omitted)."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.get_internal_type() == "TextField" and type(field).__name__.startswith(
            "Encrypted"
        ):
            continue
        value = field.value_from_object(instance)
        data[field.name] = _jsonable(value)
    return data


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that differ, from two snapshots."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def audit_event(
    *,
    actor,
    action: str,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    estate_id: int | None = None,
    summary: "str | Summary" = "",
    before: dict | None = None,
    after: dict | None = None,
    subject_repr: str | None = None,
) -> AuditEvent:
    """The audit row `audit_record` writes, unsaved: a service recording many changes at once
    saves them together (`AuditEvent.objects.bulk_create`), in its transaction.
    `subject_repr` saves calling `str(subject)` when the caller has it at hand. A `Summary`
    is shown in the reader's language (wuye.audit.summaries); a plain string as written."""
    ctx = context.current()
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or str(subject.pk)
        if estate_id is None:
            estate_id = getattr(subject, "estate_id", None)
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditEvent(
        actor=actor_obj,
        actor_name=getattr(actor, "username", "") or ctx.source,
        ip=ctx.ip,
        source=ctx.source,
        request_id=ctx.request_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_repr=(subject_repr if subject_repr is not None else str(subject or ""))[:255],
        estate_id=estate_id,
        summary=str(summary)[:255],
        summary_message=summary.message if isinstance(summary, Summary) else "",
        summary_params=summary.params if isinstance(summary, Summary) else None,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )


def audit_record(
    *,
    actor,
    action: str,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    estate_id: int | None = None,
    summary: "str | Summary" = "",
    before: dict | None = None,
    after: dict | None = None,
    subject_repr: str | None = None,
) -> AuditEvent:
    """Write one audit row for a change, in the same transaction as the change."""
    event = audit_event(
        subject_repr=subject_repr,
        actor=actor,
        action=action,
        subject=subject,
        subject_type=subject_type,
        subject_id=subject_id,
        estate_id=estate_id,
        summary=summary,
        before=before,
        after=after,
    )
    event.save(force_insert=True)
    return event
