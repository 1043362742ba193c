"""Helpers shared by the fees services: permission and estate checks, validated saves."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Model
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, changed, snapshot
from wuye.core.errors import DomainError
from wuye.registry.services import require_estate, require_perm

__all__ = [
    "AuditEvent",
    "audit_record",
    "changed",
    "require_estate",
    "require_perm",
    "snapshot",
    "validated_save",
]


def validated_save(instance: Model, *, prefix: str = "") -> None:
    """Model validation, then save; errors become one DomainError naming the field (and the
    fee item, through `prefix`, e.g. "Property fee (PROPERTY): ")."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(
            prefix + "; ".join(messages), field=None if field == "__all__" else field
        ) from exc
    try:
        instance.save()
    except IntegrityError as exc:
        raise DomainError(prefix + _("conflicts with an existing record")) from exc
