"""Bank transfers identified by the party's stable payment reference (printed on notices):
one at a time from the memo staff type, or every credit of a bank statement file."""

import hashlib
import re
from datetime import date

from django.db import transaction

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.registry.models import Estate, Party
from wuye.registry.services import require_estate, require_perm

from ..models import TransferLine, TransferStatement
from ..statements import StatementRow, read_statement

# registry.models.new_payment_ref: "WY" + 8 of 23456789ABCDEFGHJKMNPQRSTUVWXYZ
REFERENCE = re.compile(r"WY[2-9A-HJ-NP-Z]{8}")


def party_by_reference(text: str, *, estate: Estate | None = None) -> Party | None:
    """The party whose payment reference appears in a transfer's memo (spaces, dashes and
    lower case forgiven), or None."""
    squeezed = re.sub(r"[\s\-_/]", "", clean_text(text).upper())
    for token in REFERENCE.findall(squeezed):
        qs = Party.objects.select_related("estate").filter(payment_ref=token)
        if estate is not None:
            qs = qs.filter(estate=estate)
        found = qs.first()
        if found is not None:
            return found
    return None


def bank_transfer_post(
    *,
    actor,
    estate: Estate,
    memo: str,
    amount,
    bank_ref: str,
    payer_name: str = "",
    today: date | None = None,
) -> Payment:
    """Post a bank transfer to the party named by the payment reference in its memo: oldest
    charges first, the rest kept as prepayment. The bank's reference makes it idempotent."""
    if not (bank_ref or "").strip():
        raise DomainError("enter the bank's reference of the transfer", field="bank_ref")
    party = party_by_reference(memo, estate=estate)
    if party is None:
        raise DomainError(
            "no payment reference (WY + 8 characters) of this estate in the memo",
            field="memo",
            code="unmatched",
        )
    return payment_take(
        actor=actor,
        party=party,
        amount=amount,
        channel=Payment.Channel.TRANSFER,
        external_ref=bank_ref.strip()[:64],
        keep_change_as_prepayment=True,
        source=Payment.Source.BANK,
        payer_name=payer_name,
        note=clean_text(memo)[:255],
        today=today,
    )


def transfer_statement_import(
    *, actor, estate: Estate, file_name: str, content: bytes, today: date | None = None
) -> tuple[TransferStatement, bool]:
    """Import a bank statement of the estate's collection account and post every credit
    whose memo carries a payment reference of the estate, as `bank_transfer_post` does (its
    bank reference makes each posting once, whether the line came in a file, by hand, or in
    an earlier statement that overlaps). Credits without a reference, or that the books
    refuse, wait for staff with the reason; debits are kept for the reconciliation.

    A file that cannot be read, or has lines in error, is refused whole (`StatementRejected`,
    every error with its row and column) and nothing is written. Returns (statement, new):
    the same file again is the first import's statement, nothing posted twice."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, estate.pk)
    digest = hashlib.sha256(content).hexdigest()
    found = TransferStatement.objects.filter(estate=estate, sha256=digest).first()
    if found is not None:
        return found, False
    rows = read_statement(file_name, content)
    with transaction.atomic():
        statement = TransferStatement.objects.create(
            estate=estate,
            file_name=clean_text(file_name)[:200] or "statement",
            sha256=digest,
            uploaded_by=actor,
            first_day=min(r.booked_on for r in rows),
            last_day=max(r.booked_on for r in rows),
        )
        lines = [_statement_line(actor, estate, statement, row, today) for row in rows]
        TransferLine.objects.bulk_create(lines)
        statement.posted = sum(1 for x in lines if x.outcome == TransferLine.Outcome.POSTED)
        statement.to_check = sum(1 for x in lines if x.outcome in TransferLine.TO_CHECK)
        statement.save(update_fields=["posted", "to_check"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            subject=statement,
            summary=(
                f"bank statement {statement.file_name}: {len(lines)} lines, "
                f"{statement.posted} posted, {statement.to_check} to check"
            ),
        )
    return statement, True


def _statement_line(actor, estate, statement, row: StatementRow, today) -> TransferLine:
    line = TransferLine(
        statement=statement,
        line_no=row.line_no,
        booked_on=row.booked_on,
        amount=row.amount,
        bank_ref=row.bank_ref,
        memo=row.memo,
        payer_name=row.payer_name,
        payer_account=row.payer_account,
    )
    Outcome = TransferLine.Outcome
    if row.amount < 0:
        line.outcome = Outcome.DEBIT
        return line
    before = Payment.objects.filter(
        channel=Payment.Channel.TRANSFER, external_ref=row.bank_ref[:64]
    ).first()
    try:
        line.payment = bank_transfer_post(
            actor=actor,
            estate=estate,
            memo=row.memo,
            amount=row.amount,
            bank_ref=row.bank_ref,
            payer_name=row.payer_name,
            today=today,
        )
    except DomainError as exc:
        if exc.code == "unmatched" and before is None:
            line.outcome = Outcome.NO_REFERENCE
        else:
            line.outcome = Outcome.REFUSED
            line.payment = before
        line.detail = exc.message[:255]
        return line
    line.outcome = Outcome.ALREADY if before is not None else Outcome.POSTED
    return line
