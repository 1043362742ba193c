"""Bank auto-debit (代扣): mandates, a batch file per bank in the bank's layout (CSV or fixed
width, in its encoding), and the return file: debited lines become payments (channel
autodebit), failed lines keep the bank's reason for the collection work (a closed account or a
revoked mandate also suspends the mandate)."""

import csv
import io
import secrets
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.money import ZERO
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.registry.models import Estate, Party
from wuye.registry.services import require_estate, require_perm

from ..models import BankFileLayout, DebitBatch, DebitItem, DebitMandate

EXPORT_FIELDS = {
    "seq",
    "reference",
    "account_number",
    "account_name",
    "amount",
    "amount_fen",
    "party_ref",
    "estate",
    "date",
    "mandate",
}
SUSPENDING = {DebitItem.Failure.ACCOUNT_CLOSED, DebitItem.Failure.MANDATE_REVOKED}


# --- mandates --------------------------------------------------------------------------------
@transaction.atomic
def mandate_create(
    *,
    actor,
    party: Party,
    bank: BankFileLayout,
    account_name: str,
    account_number: str,
    signed_on: date,
    limit: Decimal | None = None,
) -> DebitMandate:
    require_perm(actor, "online.add_debitmandate")
    require_estate(actor, party.estate_id)
    number = "".join(ch for ch in account_number or "" if ch.isdigit())
    if not 8 <= len(number) <= 30:
        raise DomainError(_("an account number has 8 to 30 digits"), field="account_number")
    if not (account_name or "").strip():
        raise DomainError(_("enter the account holder's name"), field="account_name")
    if DebitMandate.objects.filter(
        party=party, bank=bank, status=DebitMandate.Status.ACTIVE
    ).exists():
        raise DomainError(
            _("%(party)s already has an active mandate with %(bank)s")
            % {"party": party, "bank": bank},
            field="bank",
        )
    mandate = DebitMandate.objects.create(
        estate_id=party.estate_id,
        party=party,
        bank=bank,
        reference=f"MD{party.estate.code[:6]}{secrets.token_hex(5).upper()}",
        account_name=account_name.strip()[:100],
        account_number=number,
        limit=limit,
        signed_on=signed_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=mandate)
    return mandate


@transaction.atomic
def mandate_cancel(*, actor, mandate: DebitMandate) -> DebitMandate:
    require_perm(actor, "online.change_debitmandate")
    require_estate(actor, mandate.estate_id)
    DebitMandate.objects.filter(pk=mandate.pk).update(status=DebitMandate.Status.CANCELLED)
    mandate.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=mandate,
        summary=Summary(gettext_noop("cancel")),
    )
    return mandate


# --- batches ---------------------------------------------------------------------------------
def _charges_to_debit(mandate: DebitMandate, due_by: date) -> list[Charge]:
    pending = set()
    for ids in DebitItem.objects.filter(
        party=mandate.party, status=DebitItem.Status.PENDING
    ).values_list("charge_ids", flat=True):
        pending.update(ids)
    charges = [
        c
        for c in Charge.objects.filter(
            party=mandate.party, status=Charge.Status.OPEN, due_date__lte=due_by
        ).order_by("due_date", "period", "pk")
        if c.pk not in pending
    ]
    if mandate.limit is None:
        return charges
    chosen, total = [], ZERO
    for charge in charges:
        if total + charge.outstanding > mandate.limit:
            break
        chosen.append(charge)
        total += charge.outstanding
    return chosen


@transaction.atomic
def debit_batch_create(
    *, actor, estate: Estate, bank: BankFileLayout, debit_date: date, due_by: date | None = None
) -> DebitBatch:
    """One item per active mandate of the estate with this bank, for the party's open charges
    due by `due_by` (default: the debit date) and not already in a pending batch."""
    require_perm(actor, "online.add_debitbatch")
    require_estate(actor, estate.pk)
    due_by = due_by or debit_date
    stamp = f"{estate.code[:6]}{bank.code[:6].upper()}{debit_date:%y%m%d}"
    batch = DebitBatch.objects.create(
        estate=estate,
        bank=bank,
        number=f"{stamp}{secrets.token_hex(2).upper()}",
        debit_date=debit_date,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    items = []
    mandates = DebitMandate.objects.select_related("party").filter(
        estate=estate, bank=bank, status=DebitMandate.Status.ACTIVE
    )
    for mandate in mandates.order_by("pk"):
        charges = _charges_to_debit(mandate, due_by)
        amount = sum((c.outstanding for c in charges), ZERO)
        if amount <= 0:
            continue
        seq = len(items) + 1
        items.append(
            DebitItem(
                batch=batch,
                seq=seq,
                reference=f"{batch.number}{seq:05d}",
                mandate=mandate,
                party=mandate.party,
                amount=amount,
                charge_ids=[c.pk for c in charges],
            )
        )
    DebitItem.objects.bulk_create(items)
    batch.count = len(items)
    batch.total = sum((i.amount for i in items), ZERO)
    batch.save(update_fields=["count", "total"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=batch,
        summary=Summary(gettext_noop("%(n)s debits, %(total)s"), n=batch.count, total=batch.total),
    )
    return batch


def _fit(value: str, width: int, align: str, pad: str, encoding: str) -> bytes:
    """`value` in exactly `width` bytes of `encoding` (a Chinese character is 2 in GBK),
    cut at a character boundary."""
    out = b""
    for ch in value:
        encoded = ch.encode(encoding, errors="replace")
        if len(out) + len(encoded) > width:
            break
        out += encoded
    filler = (pad or " ").encode(encoding) * (width - len(out))
    return filler + out if align == "right" else out + filler


def _value(field: str, item: DebitItem, batch: DebitBatch) -> str:
    if field.startswith("text:"):
        return field[5:]
    return {
        "seq": str(item.seq),
        "reference": item.reference,
        "account_number": item.mandate.account_number,
        "account_name": item.mandate.account_name,
        "amount": f"{item.amount:.2f}",
        "amount_fen": str(int(item.amount * 100)),
        "party_ref": item.party.payment_ref,
        "estate": batch.estate.code,
        "date": f"{batch.debit_date:%Y%m%d}",
        "mandate": item.mandate.reference,
    }[field]


def debit_batch_file(*, actor, batch: DebitBatch) -> tuple[str, bytes]:
    """(file name, content) of the batch in its bank's layout. Audited: it holds account
    numbers."""
    require_perm(actor, "online.view_debitbatch")
    require_estate(actor, batch.estate_id)
    layout = batch.bank
    items = list(batch.items.select_related("mandate", "party").order_by("seq"))
    columns = layout.export_columns
    for col in columns:
        field = col.get("field", "")
        if field not in EXPORT_FIELDS and not field.startswith("text:"):
            raise DomainError(
                _("layout %(code)s: unknown field %(field)s")
                % {"code": layout.code, "field": f"{field!r}"},
                field="layout",
            )
    eol = layout.line_ending.encode()
    if layout.format == BankFileLayout.Format.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=layout.delimiter or ",", lineterminator="\n")
        if layout.header_row:
            writer.writerow([c.get("title") or c["field"] for c in columns])
        for item in items:
            writer.writerow([_value(c["field"], item, batch) for c in columns])
        text = buffer.getvalue().replace("\n", layout.line_ending)
        content = text.encode(layout.encoding, errors="replace")
    else:
        lines = []
        for item in items:
            lines.append(
                b"".join(
                    _fit(
                        _value(c["field"], item, batch),
                        int(c["width"]),
                        c.get("align", "left"),
                        c.get("pad", " "),
                        layout.encoding,
                    )
                    for c in columns
                )
            )
        content = eol.join(lines) + (eol if lines else b"")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        subject=batch,
        summary=Summary(
            gettext_noop("auto-debit file for %(bank)s, %(n)s lines"),
            bank=layout.name,
            n=len(items),
        ),
    )
    suffix = "csv" if layout.format == BankFileLayout.Format.CSV else "txt"
    return f"{batch.number}.{suffix}", content


# --- the return file -------------------------------------------------------------------------
def _rows(layout: BankFileLayout, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {reference, status, reason, amount, message}) of each data line."""
    spec = layout.return_columns
    if "reference" not in spec or "status" not in spec:
        raise DomainError(
            _("layout %(code)s names no reference/status column") % {"code": layout.code},
            field="layout",
        )
    raw_lines = content.replace(b"\r\n", b"\n").split(b"\n")
    rows = []
    for number, raw in enumerate(raw_lines, start=1):
        if number <= layout.return_header_rows or not raw.strip():
            continue
        if layout.format == BankFileLayout.Format.CSV:
            try:
                text = raw.decode(layout.encoding)
            except UnicodeDecodeError:
                raise DomainError(
                    _("line %(number)s: not %(encoding)s text")
                    % {"number": number, "encoding": layout.encoding},
                    field="file",
                ) from None
            cells = next(csv.reader([text], delimiter=layout.delimiter or ","))
            row = {}
            for name, index in spec.items():
                if int(index) >= len(cells):
                    raise DomainError(
                        _("line %(number)s: column %(int)s (%(name)s) is missing")
                        % {"number": number, "int": int(index) + 1, "name": name},
                        field="file",
                    )
                row[name] = cells[int(index)].strip()
        else:
            row = {}
            for name, (start, end) in spec.items():
                try:
                    row[name] = raw[int(start) : int(end)].decode(layout.encoding).strip()
                except UnicodeDecodeError:
                    raise DomainError(
                        _("line %(number)s: %(name)s (bytes %(start)s-%(end)s) is not %(encoding)s")
                        % {
                            "number": number,
                            "name": name,
                            "start": start,
                            "end": end,
                            "encoding": layout.encoding,
                        },
                        field="file",
                    ) from None
        rows.append((number, row))
    return rows


@transaction.atomic
def debit_return_import(*, actor, batch: DebitBatch, content: bytes) -> dict[str, int]:
    """Read the bank's return file: every line must name an item of this batch (and its
    amount, when the layout has one); any bad line refuses the whole file. Debited items are
    posted as payments of channel autodebit (idempotent by the item reference: importing the
    file again changes nothing); failed ones keep the bank's reason."""
    require_perm(actor, "online.change_debitbatch")
    require_estate(actor, batch.estate_id)
    batch = DebitBatch.objects.select_for_update().select_related("bank").get(pk=batch.pk)
    layout = batch.bank
    items = {i.reference: i for i in batch.items.select_related("party", "mandate")}
    parsed = []
    for number, row in _rows(layout, content):
        item = items.get(row["reference"])
        if item is None:
            raise DomainError(
                _("line %(number)s: reference %(row)s is not in batch %(number2)s")
                % {"number": number, "row": f"{row['reference']!r}", "number2": batch.number},
                field="file",
            )
        if row.get("amount"):
            try:
                amount = Decimal(row["amount"].replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite():  # "NaN", "sNaN", "Infinity" too
                raise DomainError(
                    _("line %(number)s: amount %(row)s is not a number")
                    % {"number": number, "row": f"{row['amount']!r}"},
                    field="file",
                )
            if amount != item.amount:
                raise DomainError(
                    _("line %(number)s: amount %(row)s differs from the %(amount)s sent")
                    % {"number": number, "row": row["amount"], "amount": item.amount},
                    field="file",
                )
        parsed.append((number, item, row))
    counts = {"debited": 0, "failed": 0, "unchanged": 0}
    day = timezone.localdate()
    for number, item, row in parsed:
        if item.status != DebitItem.Status.PENDING:
            counts["unchanged"] += 1
            continue
        code = row["status"]
        if code in layout.success_codes:
            open_ids = list(
                Charge.objects.filter(pk__in=item.charge_ids, status=Charge.Status.OPEN)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            try:
                payment = payment_take(
                    actor=actor,
                    party=item.party,
                    amount=item.amount,
                    channel=Payment.Channel.AUTODEBIT,
                    external_ref=item.reference,
                    charge_ids=[c for c in item.charge_ids if c in open_ids] or None,
                    keep_change_as_prepayment=True,
                    source=Payment.Source.BANK,
                    payer_name=item.mandate.account_name,
                    note=f"代扣 {batch.number}",
                    today=day,
                    received=True,  # the bank has debited it: recorded in full
                    value_date=batch.debit_date,  # the day the bank debited it
                )
            except DomainError as exc:  # the whole file waits: say which line and why
                raise DomainError(
                    _("line %(number)s (%(party)s): %(message)s")
                    % {"number": number, "party": item.party, "message": exc.message},
                    field="file",
                    code=exc.code,
                ) from exc
            item.status = DebitItem.Status.DEBITED
            item.payment = payment
            counts["debited"] += 1
        else:
            reason_code = row.get("reason") or code
            item.status = DebitItem.Status.FAILED
            item.failure = layout.reason_map.get(reason_code, DebitItem.Failure.OTHER)
            if item.failure not in DebitItem.Failure.values:
                item.failure = DebitItem.Failure.OTHER
            if item.failure in SUSPENDING:
                DebitMandate.objects.filter(pk=item.mandate_id).update(
                    status=DebitMandate.Status.SUSPENDED
                )
            counts["failed"] += 1
        item.bank_code = (row.get("reason") or code)[:20]
        item.bank_message = row.get("message", "")[:255]
        item.save(update_fields=["status", "payment", "failure", "bank_code", "bank_message"])
    totals = batch.items.values("status").annotate(n=Count("id")).order_by()
    by_status = {t["status"]: t["n"] for t in totals}
    batch.succeeded = by_status.get(DebitItem.Status.DEBITED, 0)
    batch.failed = by_status.get(DebitItem.Status.FAILED, 0)
    if not by_status.get(DebitItem.Status.PENDING):
        batch.status = DebitBatch.Status.RETURNED
    batch.returned_at = timezone.now()
    batch.save(update_fields=["succeeded", "failed", "status", "returned_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        subject=batch,
        summary=Summary(
            gettext_noop("return file: %(debited)s debited, %(failed)s failed"),
            debited=counts["debited"],
            failed=counts["failed"],
        ),
    )
    return counts


def debit_failures(party_id: int) -> list[DebitItem]:
    """The party's failed debits, newest first, with the bank's reason (for collection)."""
    return list(
        DebitItem.objects.filter(party_id=party_id, status=DebitItem.Status.FAILED)
        .select_related("batch")
        .order_by("-batch__debit_date", "-pk")
    )
