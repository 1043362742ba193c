"""Small helpers shared by the resolution services (plans, disputes, demands, legal)."""

import hashlib
import uuid
from datetime import date

from django.utils import timezone

from ..models import ArrearsCase, CaseStatus, Hold, Task

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def provisional_number() -> str:
    """A placeholder replaced by `<prefix>-<estate>-<id>` once the row has its id."""
    return f"tmp-{uuid.uuid4().hex[:20]}"


def number_for(prefix: str, obj) -> str:
    return f"{prefix}-{obj.estate.code}-{obj.pk:05d}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def hold(*, case: ArrearsCase, kind: str, reason: str, source: str, expires_on=None, amount=None):
    """Pause dunning of the case for the record named by `source` (idempotent)."""
    existing = Hold.objects.filter(source=source).first()
    if existing is not None:
        return existing
    return Hold.objects.create(
        estate_id=case.estate_id,
        party_id=case.party_id,
        case=case,
        kind=kind,
        reason=reason[:255],
        amount=amount,
        starts_on=timezone.localdate(),
        expires_on=expires_on,
        source=source,
    )


def task(*, case: ArrearsCase, kind: str, due_on: date, note: str, key: str) -> Task:
    """A task for the case's collector (idempotent per `key`)."""
    found = Task.objects.filter(dedupe_key=key).first()
    if found is not None:
        return found
    return Task.objects.create(
        estate_id=case.estate_id,
        case=case,
        kind=kind,
        role="collector",
        assignee=case.assignee,
        due_on=due_on,
        stage_number=case.stage_number,
        note=note[:255],
        dedupe_key=key,
    )


def set_case_status(case: ArrearsCase, status: str, *, only_from=None) -> None:
    """Move an open case to `status` (never a closed one; with `only_from`, only from those)."""
    case.refresh_from_db(fields=["status"])
    if case.status == CaseStatus.CLOSED:
        return
    if only_from is not None and case.status not in only_from:
        return
    case.status = status
    case.last_progress_on = timezone.localdate()
    case.save(update_fields=["status", "last_progress_on", "updated_at"])
