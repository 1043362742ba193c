"""Helpers shared by the billing services: permissions, audit, ledger posting, locks."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, snapshot
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import ZERO
from wuye.fees.models import FeeItem
from wuye.ledger import chart
from wuye.ledger.services import Line, account_ensure, entry_post
from wuye.registry.services import require_estate as _require_estate
from wuye.registry.services import require_perm

from ..models import Charge

__all__ = [
    "AuditEvent",
    "DomainError",
    "Line",
    "PermissionDenied",
    "ZERO",
    "audit_record",
    "chart",
    "ensure_item_account",
    "gl_post",
    "lock_charge",
    "require_estate",
    "require_perm",
    "snapshot",
]

OPENING_BALANCES = chart.OPENING_BALANCES


def require_estate(actor, estate_id: int) -> None:
    """The actor works for the estate; None is the system (CLI, scheduled tasks)."""
    if actor is not None:
        _require_estate(actor, estate_id)


def ensure_item_account(item: FeeItem) -> str:
    """The item's GL account, created if the fees app has not made it yet."""
    code = item.gl_account()
    if code.startswith(f"{chart.REVENUE}."):
        account_ensure(code=code, name=f"主营业务收入-{item.name}", kind="income")
    return code


def ensure_opening_account() -> str:
    account_ensure(code=OPENING_BALANCES, name="期初余额过渡", kind="liability")
    return OPENING_BALANCES


def gl_post(
    *,
    estate_id: int,
    day: date,
    memo: str,
    debit: str,
    credit: str,
    amount: Decimal,
    key: str,
    source_type: str,
    source_id,
    actor=None,
    party_id: int | None = None,
):
    """One two-line entry Dr `debit` Cr `credit`. Receivable lines never carry the party: the
    subledger is per party, the control account per estate (DESIGN.md §4)."""
    return entry_post(
        estate=estate_id,
        date=day,
        memo=memo,
        lines=[
            Line(debit, debit=amount, party_id=None if debit == chart.RECEIVABLE else party_id),
            Line(credit, credit=amount, party_id=None if credit == chart.RECEIVABLE else party_id),
        ],
        idempotency_key=key,
        source_type=source_type,
        source_id=str(source_id),
        actor=actor,
    )


def lock_charge(charge: Charge) -> Charge:
    """The charge re-read with its row locked (lock order: unit -> charge -> payment)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_charge needs a transaction")
    return Charge.objects.select_for_update().select_related("fee_item").get(pk=charge.pk)
