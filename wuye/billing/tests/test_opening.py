"""Opening balances from the old system: arrears, prepaid balances, paid-up-to dates."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from wuye.billing import services
from wuye.billing.models import Charge, PaidUpTo, PrepaymentMovement
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance

D = Decimal
pytestmark = pytest.mark.django_db


def xlsx(rows, header=("unit", "fee_item", "period", "type", "amount", "date")):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_clean_file_imports_arrears_prepaid_and_paid_up_to(
    owner, unit, property_fee, finance, bill, books_balance
):
    content = xlsx(
        [
            ("1-1-301", "PROPERTY", "2026-10", "arrears", "250.60", None),
            ("1-1-301", "property", "2026-11", "欠费", 250.6, None),
            ("1-1-301", "PROPERTY", None, "prepaid", "500", None),
            ("1-1-301", "PROPERTY", None, "paid_up_to", None, date(2027, 1, 31)),
        ]
    )
    result = services.opening_balances_import(
        actor=finance, estate=unit.estate, content=content, as_of=date(2026, 12, 1)
    )
    assert result.ok and (result.arrears, result.prepaid, result.paid_up_to) == (2, 1, 1)
    assert Charge.objects.filter(kind=Charge.Kind.OPENING, party=owner).count() == 2
    assert PrepaymentMovement.objects.get().amount == D("500.00")
    assert account_balance(unit.estate, chart.PREPAYMENTS) == D("500.00")
    assert books_balance(unit.estate) == (D("501.20"), D("501.20"))
    # the paid-up-to date is honoured: December and January are not billed, February is
    assert PaidUpTo.objects.get().paid_to == date(2027, 1, 31)
    bill("2026-12")
    bill("2027-01")
    bill("2027-02")
    assert list(Charge.objects.filter(kind="regular").values_list("period", flat=True)) == [
        "2027-02"
    ]


def test_a_messy_file_writes_nothing_and_names_every_row_and_column(owner, unit, finance):
    from wuye.fees.models import FeeItem

    FeeItem.objects.create(
        estate=unit.estate, code="PROPERTY", name="物业费", kind="property", basis="per_area_month"
    )
    content = xlsx(
        [
            ("1-1-301", "PROPERTY", "2026-10", "arrears", "250.60", None),  # fine
            ("9-9-999", "PROPERTY", "2026-10", "arrears", "10", None),  # no such unit
            ("1-1-301", "NOPE", "2026-10", "arrears", "10", None),  # no such item
            ("1-1-301", "PROPERTY", "2026-13", "arrears", "10", None),  # bad period
            ("1-1-301", "PROPERTY", "2026-09", "arrears", "-3", None),  # bad amount
            ("1-1-301", "PROPERTY", None, "paid_up_to", None, "soon"),  # bad date
            ("1-1-301", "PROPERTY", "2026-10", "arrears", "1", None),  # repeats row 2
            ("1-1-301", "PROPERTY", None, "whatever", "1", None),  # bad type
        ]
    )
    result = services.opening_balances_import(actor=finance, estate=unit.estate, content=content)
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "unit"),
        (4, "fee_item"),
        (5, "period"),
        (6, "amount"),
        (7, "date"),
        (8, "unit"),
        (9, "type"),
    ]
    assert "2026-13" in str(result.errors[2])
    assert not Charge.objects.exists() and not PrepaymentMovement.objects.exists()


def test_a_file_without_the_needed_columns_is_refused(owner, unit, finance):
    with pytest.raises(DomainError, match="missing columns"):
        services.opening_balances_import(
            actor=finance, estate=unit.estate, content=xlsx([], header=("房号", "金额"))
        )
