"""Opening balances moved in from the old system (.xlsx), one row per unit, item and period:

| unit    | fee_item | period  | type       | amount  | date       |
|---------|----------|---------|------------|---------|------------|
| 1-1-301 | PROPERTY | 2026-10 | arrears    | 250.60  |            |
| 1-1-301 | PROPERTY |         | prepaid    | 500.00  |            |
| 1-1-301 | PROPERTY |         | paid_up_to |         | 2026-12-31 |

(Chinese headers 房号/收费项目/期间/类型/金额/日期 and types 欠费/预存/已缴至 work too.)

- `arrears` -> a charge of kind `opening` to the payer of that period (Dr RECEIVABLE), due
  on its real due date: the row's `date` (日期) when given, else the day a bill run would have
  made it due (bill date + the item's due days), so late fees count from the right day;
- `prepaid` -> a `PrepaymentMovement` of kind `opening` for the unit's current payer, earmarked
  for the item when one is given (Cr PREPAYMENTS with the party on the line);
- `paid_up_to` -> a `PaidUpTo` date: bill runs do not bill those days again.

The counter-account is OPENING_BALANCES (期初余额过渡). Every row is checked first; with any
error nothing is written and each error names its row, column and reason.
"""

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.money import FEN
from wuye.core.spreadsheets import SpreadsheetRefused, open_xlsx, within_budget
from wuye.fees.models import FeeItem
from wuye.ledger.services import Line, entry_post
from wuye.registry.models import Estate, Unit
from wuye.registry.selectors import payer_on

from ..events import receivables_changed
from ..models import Charge, PaidUpTo, PrepaymentMovement
from ..periods import Period
from ._common import (
    ZERO,
    AuditEvent,
    DomainError,
    audit_record,
    chart,
    ensure_opening_account,
    require_estate,
    require_perm,
)
from .runs import bill_date_of

HEADERS = {
    "unit": "unit",
    "房号": "unit",
    "fee_item": "fee_item",
    "item": "fee_item",
    "收费项目": "fee_item",
    "period": "period",
    "期间": "period",
    "type": "type",
    "类型": "type",
    "amount": "amount",
    "金额": "amount",
    "date": "date",
    "日期": "date",
}
TYPES = {
    "arrears": "arrears",
    "欠费": "arrears",
    "prepaid": "prepaid",
    "预存": "prepaid",
    "paid_up_to": "paid_up_to",
    "已缴至": "paid_up_to",
}
REQUIRED = ["unit", "fee_item", "type"]


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass
class OpeningResult:
    rows: int = 0
    arrears: int = 0
    arrears_amount: Decimal = ZERO
    prepaid: int = 0
    prepaid_amount: Decimal = ZERO
    paid_up_to: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _read_rows(content: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    try:
        book = open_xlsx(io.BytesIO(content))
    except SpreadsheetRefused:
        raise
    except Exception as exc:
        raise DomainError(_("not an .xlsx file: %(error)s") % {"error": exc}, field="file") from exc
    try:
        sheet = book.worksheets[0]
        rows = within_budget(sheet.iter_rows(values_only=True))
        header = next(rows, None)
        if not header:
            raise DomainError(_("the sheet is empty"), field="file")
        names = [HEADERS.get(_cell_text(h).lower(), HEADERS.get(_cell_text(h), "")) for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise DomainError(
                _("missing columns: %(columns)s") % {"columns": ", ".join(missing)}, field="file"
            )
        out = []
        for number, values in enumerate(rows, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue
            out.append((number, {n: v for n, v in zip(names, values, strict=False) if n}))
    finally:
        book.close()
    return names, out


def _amount(raw, row: int, errors: list[RowError]) -> Decimal | None:
    text = _cell_text(raw).replace(",", "")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        errors.append(
            RowError(row, "amount", _("%(text)s is not an amount") % {"text": repr(text)})
        )
        return None
    if not value.is_finite() or value <= 0:
        errors.append(RowError(row, "amount", _("must be more than 0")))
        return None
    if value != value.quantize(FEN):
        errors.append(RowError(row, "amount", _("at most 2 decimal places")))
        return None
    return value.quantize(FEN)


def _date(raw, row: int, errors: list[RowError]) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _cell_text(raw)
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(
            RowError(row, "date", _("%(text)s is not a date (YYYY-MM-DD)") % {"text": repr(text)})
        )
        return None


@transaction.atomic
def opening_balances_import(
    *, actor, estate: Estate, content: bytes, as_of: date | None = None, dry_run: bool = False
) -> OpeningResult:
    """Check every row, then (unless `dry_run` or any error) write everything in one go."""
    require_perm(actor, "billing.import_opening")
    require_estate(actor, estate.pk)
    as_of = as_of or timezone.localdate()
    _names, rows = _read_rows(content)
    result = OpeningResult(rows=len(rows), dry_run=dry_run)
    errors = result.errors
    units = {u.number: u for u in Unit.objects.filter(estate=estate)}
    items = {i.code.upper(): i for i in FeeItem.objects.filter(estate=estate)}
    seen: dict[tuple, int] = {}
    arrears, prepaid, paid_to = [], [], []
    for number, data in rows:
        before = len(errors)
        unit = units.get(_cell_text(data.get("unit")))
        if unit is None:
            errors.append(
                RowError(
                    number,
                    "unit",
                    _("no unit %(unit)s") % {"unit": repr(_cell_text(data.get("unit")))},
                )
            )
        item = items.get(_cell_text(data.get("fee_item")).upper())
        if item is None:
            errors.append(
                RowError(
                    number,
                    "fee_item",
                    _("no fee item %(item)s") % {"item": repr(_cell_text(data.get("fee_item")))},
                )
            )
        kind = TYPES.get(_cell_text(data.get("type")).lower())
        if kind is None:
            errors.append(
                RowError(
                    number, "type", _("must be arrears, prepaid or paid_up_to (欠费/预存/已缴至)")
                )
            )
        if len(errors) > before:
            continue
        key = (kind, unit.pk, item.pk, _cell_text(data.get("period")))
        if key in seen:
            errors.append(RowError(number, "unit", _("repeats row %(row)s") % {"row": seen[key]}))
            continue
        seen[key] = number
        if kind == "arrears":
            try:
                period = Period.parse(_cell_text(data.get("period")))
            except DomainError as exc:
                errors.append(RowError(number, "period", exc.message))
                continue
            amount = _amount(data.get("amount"), number, errors)
            party = payer_on(unit, period.start) or payer_on(unit, period.end)
            if party is None:
                errors.append(
                    RowError(
                        number,
                        "unit",
                        _("%(unit)s had no owner or payer in %(period)s")
                        % {"unit": unit, "period": period},
                    )
                )
            if amount is None or party is None:
                continue
            if Charge.objects.filter(
                idempotency_key=f"opening:{unit.pk}:{item.pk}:{period}"
            ).exists():
                errors.append(RowError(number, "period", _("already imported")))
                continue
            # Due on the day it really fell due (late fees count from there): the sheet's
            # date when given, else the day a bill run would have set.
            due = _date(data.get("date"), number, errors) if _cell_text(data.get("date")) else None
            if _cell_text(data.get("date")) and due is None:
                continue
            billed_on = bill_date_of(item, period) if item.is_recurring else period.start
            due = due or billed_on + timedelta(days=item.due_days)
            arrears.append((unit, item, period, amount, party, min(billed_on, due), due))
        elif kind == "prepaid":
            amount = _amount(data.get("amount"), number, errors)
            party = payer_on(unit, as_of)
            if party is None:
                errors.append(
                    RowError(
                        number,
                        "unit",
                        _("%(unit)s has no owner or payer on %(date)s")
                        % {"unit": unit, "date": as_of},
                    )
                )
            if amount is None or party is None:
                continue
            key = f"opening-prepaid:{unit.pk}:{item.pk}:{party.pk}"
            if PrepaymentMovement.objects.filter(idempotency_key=key).exists():
                errors.append(RowError(number, "amount", _("already imported")))
                continue
            prepaid.append((unit, item, amount, party, key))
        else:
            day = _date(data.get("date"), number, errors)
            if day is None:
                continue
            if PaidUpTo.objects.filter(unit=unit, fee_item=item).exists():
                errors.append(RowError(number, "date", _("a paid-up-to date is already recorded")))
                continue
            paid_to.append((unit, item, day))
    if errors or dry_run:
        result.arrears, result.prepaid, result.paid_up_to = len(arrears), len(prepaid), len(paid_to)
        result.arrears_amount = sum((a[3] for a in arrears), ZERO)
        result.prepaid_amount = sum((p[2] for p in prepaid), ZERO)
        return result
    charges = Charge.objects.bulk_create(
        [
            Charge(
                estate=estate,
                unit=unit,
                party=party,
                fee_item=item,
                kind=Charge.Kind.OPENING,
                period=str(period),
                period_start=period.start,
                period_end=period.end,
                amount=amount,
                outstanding=amount,
                bill_date=billed_on,
                due_date=due,
                description=f"期初欠费 {period} {item.name}",
                idempotency_key=f"opening:{unit.pk}:{item.pk}:{period}",
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            for unit, item, period, amount, party, billed_on, due in arrears
        ]
    )
    receivables_changed(charge_ids=[c.pk for c in charges])
    PrepaymentMovement.objects.bulk_create(
        [
            PrepaymentMovement(
                estate=estate,
                party=party,
                fee_item=item,
                kind=PrepaymentMovement.Kind.OPENING,
                amount=amount,
                date=as_of,
                memo=f"期初预存 {unit.number} {item.name}",
                source_type="opening",
                idempotency_key=key,
            )
            for unit, item, amount, party, key in prepaid
        ]
    )
    PaidUpTo.objects.bulk_create(
        [PaidUpTo(estate=estate, unit=u, fee_item=i, paid_to=d) for u, i, d in paid_to]
    )
    result.arrears, result.prepaid, result.paid_up_to = len(charges), len(prepaid), len(paid_to)
    result.arrears_amount = sum((c.amount for c in charges), ZERO)
    result.prepaid_amount = sum((p[2] for p in prepaid), ZERO)
    lines = []
    if result.arrears_amount:
        opening = ensure_opening_account()
        lines += [
            Line(chart.RECEIVABLE, debit=result.arrears_amount),
            Line(opening, credit=result.arrears_amount),
        ]
    for _unit, _item, amount, party, _key in prepaid:
        lines += [
            Line(ensure_opening_account(), debit=amount),
            Line(chart.PREPAYMENTS, credit=amount, party_id=party.pk),
        ]
    if lines:
        digest = hashlib.sha256(content).hexdigest()[:16]
        entry = entry_post(
            estate=estate,
            date=as_of,
            memo=f"期初余额导入 {result.arrears} 欠费 {result.prepaid} 预存",
            lines=lines,
            idempotency_key=f"billing-opening:{estate.pk}:{digest}",
            source_type="opening_import",
            source_id=digest,
            actor=actor,
        )
        Charge.objects.filter(pk__in=[c.pk for c in charges]).update(entry_id=entry.pk)
        PrepaymentMovement.objects.filter(idempotency_key__in=[p[4] for p in prepaid]).update(
            entry_id=entry.pk
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        subject_type="billing.charge",
        estate_id=estate.pk,
        summary=Summary(
            gettext_noop(
                "opening balances: %(arrears)s arrears %(arrears_amount)s, "
                "%(prepaid)s prepaid %(prepaid_amount)s, %(paid_up_to)s paid-up-to"
            ),
            arrears=result.arrears,
            arrears_amount=result.arrears_amount,
            prepaid=result.prepaid,
            prepaid_amount=result.prepaid_amount,
            paid_up_to=result.paid_up_to,
        ),
    )
    return result
