"""Bank transfers identified by the party's stable payment reference (printed on notices):
one at a time from the memo staff type, or every credit of a bank statement file."""

import io
import re
from datetime import date, timedelta
from typing import IO

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.normalize import clean_text
from wuye.core.stored_files import file_pack, file_unpack
from wuye.payments.models import Payment
from wuye.payments.services import payment_take, prepayment_over_cap
from wuye.registry.models import Estate, Party, Unit
from wuye.registry.selectors import payer_on
from wuye.registry.services import require_estate, require_perm

from ..models import TransferLine, TransferStatement
from ..statements import (
    RowError,
    StatementRejected,
    StatementRow,
    bank_ref_key,
    read_statement,
)

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


def transfer_ref(estate: Estate, bank_ref: str) -> str:
    """The payment's external reference of a transfer: the bank's reference within the
    estate (each estate has its collection account, and short 凭证号 repeat across banks),
    without spaces and in upper case however it was typed."""
    return f"{estate.code}/{bank_ref_key(bank_ref)}"[:64]


def bank_transfer_post(
    *,
    actor,
    estate: Estate,
    memo: str,
    amount,
    bank_ref: str,
    payer_name: str = "",
    today: date | None = None,
    unit: Unit | None = None,
    booked_on: date | None = None,
) -> Payment:
    """Post a bank transfer to the party named by the payment reference in its memo: oldest
    charges first, the rest kept as prepayment. The bank's reference makes it idempotent. A
    statement line that waited for staff (no reference in its memo) is marked posted by hand.
    `booked_on` (the bank's booking date) is the payment's value date; it is booked on
    today's business day, or the next open one once today is signed off.

    Staff who identified the payer another way pick the `unit` (found by number, owner name or
    phone): the unit's payer pays that unit's charges, whatever the memo says; the memo is
    kept as the bank wrote it."""
    if not clean_text(bank_ref):
        raise DomainError(_("enter the bank's reference of the transfer"), field="bank_ref")
    if unit is not None:
        if unit.estate_id != estate.pk:
            raise DomainError(_("the unit is not in this estate"), field="unit")
        party = payer_on(unit, today or timezone.localdate())
        if party is None:
            raise DomainError(_("This unit has no owner or payer on record."), field="unit")
    else:
        party = party_by_reference(memo, estate=estate)
    if party is None:
        raise DomainError(
            _("no payment reference (WY + 8 characters) of this estate in the memo"),
            field="memo",
            code="unmatched",
        )
    with transaction.atomic():
        payment = payment_take(
            actor=actor,
            party=party,
            unit=unit,
            amount=amount,
            channel=Payment.Channel.TRANSFER,
            external_ref=transfer_ref(estate, bank_ref),
            keep_change_as_prepayment=True,
            source=Payment.Source.BANK,
            payer_name=payer_name,
            note=clean_text(memo)[:255],
            today=today,
            received=True,  # in the bank already: recorded in full, beyond the cap too
            value_date=booked_on,  # the bank's booking date (None: typed today)
        )
        _resolve_waiting_lines(estate, bank_ref, payment)
    return payment


def _resolve_waiting_lines(estate: Estate, bank_ref: str, payment: Payment) -> None:
    waiting = TransferLine.objects.filter(
        statement__estate=estate,
        bank_ref=bank_ref_key(bank_ref)[:64],
        outcome__in=TransferLine.TO_CHECK,
        amount=payment.amount,
    )
    statements = set(waiting.values_list("statement_id", flat=True))
    if not statements:
        return
    waiting.update(outcome=TransferLine.Outcome.BY_HAND, payment=payment)
    for statement in TransferStatement.objects.filter(pk__in=statements):
        statement.recount()


# A statement with more lines than this is posted by the background worker (a request would
# time out: a line costs ~10-15 ms, a month of a large estate has thousands).
INLINE_LINES = 300
# A statement is read and stored a chunk at a time (core.stored_files): its size costs disk
# and time, not memory; what a file may hold is bounded by MAX_LINES (statements.py).
MAX_FILE_BYTES = 100 * 2**20


def transfer_statement_import(
    *,
    actor,
    estate: Estate,
    file_name: str,
    content: bytes | None = None,
    file: IO[bytes] | None = None,
    today: date | None = None,
    inline: bool = False,
) -> tuple[TransferStatement, bool]:
    """Import a bank statement of the estate's collection account and post every credit
    whose memo carries a payment reference of the estate, as `bank_transfer_post` does (its
    bank reference makes each posting once, whether the line came in a file, by hand, or in
    an earlier statement that overlaps). Credits without a reference, or that the books
    refuse, wait for staff with the reason; debits are kept for the reconciliation.

    A file that cannot be read, or has lines in error, is refused whole (`StatementRejected`,
    every error with its row and column) and nothing is written. Each line is then posted in
    a transaction of its own (a long file must not hold the estate's receipt counter, nor
    wait for the window's payments); a file of more than `INLINE_LINES` lines is posted by the
    background worker (`transfer_statement_finish`), the statement's page shows how far it
    got (`inline`: post it here, whatever its length: the command line). An import cut
    short is finished by importing the same file again. Returns
    (statement, new): the same file again is the first import's statement, nothing posted
    twice.

    The file is `file` (binary, seekable: the upload itself) or its `content`. It is hashed,
    compressed for storage and parsed a chunk at a time, never whole in memory (an .xlsx
    but for its cells' budget); the statement keeps it gzip-compressed (the evidence, and
    what the worker reads a long one back from, as a stream)."""
    _may_import(actor, estate)
    if file is None:
        file = io.BytesIO(content or b"")
    packed = file_pack(file, max_bytes=MAX_FILE_BYTES)
    statement_size_check(packed.size)
    digest = packed.sha256
    found = TransferStatement.objects.filter(estate=estate, sha256=digest).first()
    if found is not None and found.is_complete:
        return found, False
    rows = read_statement(file_name, file)
    _refuse_future_days(rows, today or timezone.localdate())
    statement, new = found, False
    if statement is None:
        try:
            with transaction.atomic():
                statement = TransferStatement.objects.create(
                    estate=estate,
                    file_name=clean_text(file_name)[:200] or "statement",
                    sha256=digest,
                    content=packed.data,
                    uploaded_by=actor,
                    first_day=min(r.booked_on for r in rows),
                    last_day=max(r.booked_on for r in rows),
                    lines_total=len(rows),
                )
            new = True
        except IntegrityError:  # the same file uploaded twice at once: the other one posts
            return TransferStatement.objects.get(estate=estate, sha256=digest), False
    if len(rows) > INLINE_LINES and not inline:
        from ..tasks import post_statement

        pk = statement.pk
        transaction.on_commit(lambda: post_statement.enqueue(pk))
        return statement, new
    _post_lines(actor, estate, statement, rows, today)
    return statement, new


def statement_size_check(size: int) -> None:
    """Refuse a statement file larger than `MAX_FILE_BYTES` (callers ask before reading an
    upload into memory)."""
    if size > MAX_FILE_BYTES:
        raise StatementRejected(
            _("the file is larger than %(size)s MB: split the statement")
            % {"size": MAX_FILE_BYTES // 2**20}
        )


def _may_import(actor, estate: Estate) -> None:
    require_perm(actor, "online.add_transferstatement")
    require_perm(actor, "payments.take_payment")
    require_estate(actor, estate.pk)


def _refuse_future_days(rows, today: date) -> None:
    """A booking date more than a week ahead is a mistyped year, not a transfer."""
    limit = today + timedelta(days=7)
    errors = [
        RowError(r.line_no, "", _("booked on %(day)s, after today") % {"day": r.booked_on})
        for r in rows
        if r.booked_on > limit
    ]
    if errors:
        raise StatementRejected.of_lines(errors)


def transfer_statement_finish(*, statement_id: int, today: date | None = None) -> TransferStatement:
    """Post the lines of a statement not recorded yet, as the importing user (the worker's
    part of a long file, or an import that was cut short). An importer who may no longer
    post leaves it as it is (PermissionDenied): importing the file again, by someone who may,
    finishes it."""
    statement = TransferStatement.objects.select_related("estate", "uploaded_by").get(
        pk=statement_id
    )
    if not statement.is_complete:
        _may_import(statement.uploaded_by, statement.estate)
        rows = read_statement(statement.file_name, file_unpack(statement.content))
        _post_lines(statement.uploaded_by, statement.estate, statement, rows, today)
    return statement


def _post_lines(actor, estate: Estate, statement: TransferStatement, rows, today) -> None:
    done = set(statement.lines.values_list("line_no", flat=True))
    for row in rows:
        if row.line_no in done:
            continue
        try:
            with transaction.atomic():
                _statement_line(actor, estate, statement, row, today).save()
        except IntegrityError:
            continue  # another process recorded this line meanwhile (and its posting)
    statement.recount()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        subject=statement,
        summary=Summary(
            gettext_noop(
                "bank statement %(file)s: %(n)s lines, %(posted)s posted, %(check)s to check"
            ),
            file=statement.file_name,
            n=len(rows),
            posted=statement.posted,
            check=statement.to_check,
        ),
    )


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
        channel=Payment.Channel.TRANSFER, external_ref=transfer_ref(estate, row.bank_ref)
    ).first()
    if before is not None:  # typed by hand, or in an overlapping statement
        line.payment = before
        if before.is_voided:
            line.outcome = Outcome.REFUSED
            line.detail = _(
                "bank reference %(ref)s was posted and then voided: if the money is real, post "
                "it by hand with the reference %(ref)s-2"
            ) % {"ref": row.bank_ref}
        elif before.amount == row.amount:
            line.outcome = Outcome.ALREADY
        else:
            line.outcome = Outcome.REFUSED
            line.detail = _("bank reference %(ref)s was posted for %(amount)s") % {
                "ref": row.bank_ref,
                "amount": before.amount,
            }
        return line
    try:
        line.payment = bank_transfer_post(
            actor=actor,
            estate=estate,
            memo=row.memo,
            amount=row.amount,
            bank_ref=row.bank_ref,
            payer_name=row.payer_name,
            today=today,
            booked_on=row.booked_on,
        )
    except PermissionDenied:
        raise  # the importer may not post (any more): nothing of it is this line's outcome
    except DomainError as exc:
        line.outcome = Outcome.NO_REFERENCE if exc.code == "unmatched" else Outcome.REFUSED
        line.detail = exc.message[:255]
        return line
    line.outcome = Outcome.POSTED
    over = prepayment_over_cap(line.payment.party, today=today)
    if over > 0:
        line.detail = _(
            "the owner's prepayment is %(over)s over the estate's cap: refund what it will not hold"
        ) % {"over": over}
    return line
