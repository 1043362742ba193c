"""Credit and debit notes post back to the account the charge was raised on (issue 11 point
16): a late fee to late-fee income, an opening balance to the opening-balances account, a
pass-through charge to money held for others -- never to property revenue."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from wuye.billing import services
from wuye.billing.models import Charge
from wuye.fees.models import FeeItem
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance

D = Decimal
pytestmark = pytest.mark.django_db


def revenue(estate):
    return account_balance(estate, chart.revenue_account("PROPERTY"))


def test_a_late_fees_notes_post_to_late_fee_income(owner, property_fee, bill, finance):
    bill("2026-06", as_of=date(2026, 6, 1))
    services.late_fee_assess(estate=owner.estate, as_of=date(2026, 8, 11), today=date(2026, 8, 11))
    fee = Charge.objects.get(kind=Charge.Kind.LATE_FEE)  # 1.95
    before = revenue(owner.estate)
    # when 0.95 of it is credited and 0.50 more raised by a debit note
    services.charge_credit_note(
        actor=finance, charge=fee, amount="0.95", reason="天数算错", idempotency_key="cn-lf"
    )
    services.charge_debit_note(
        actor=finance, charge=fee, amount="0.50", reason="补收", idempotency_key="dn-lf"
    )
    # then late-fee income is 1.95 - 0.95 + 0.50 and property revenue did not move
    assert account_balance(owner.estate, chart.LATE_FEE_INCOME) == D("1.50")
    assert revenue(owner.estate) == before


def test_an_opening_balances_credit_note_posts_to_the_opening_account(
    owner, unit, property_fee, finance
):
    book = Workbook()
    sheet = book.active
    sheet.append(["unit", "fee_item", "period", "type", "amount", "date"])
    sheet.append(["1-1-301", "PROPERTY", "2026-06", "arrears", "250.60", None])
    out = io.BytesIO()
    book.save(out)
    services.opening_balances_import(
        actor=finance, estate=unit.estate, content=out.getvalue(), as_of=date(2026, 8, 1)
    )
    opening = Charge.objects.get(kind=Charge.Kind.OPENING)
    services.charge_credit_note(
        actor=finance, charge=opening, amount="50.60", reason="旧系统多计", idempotency_key="cn-op"
    )
    # (credited to property revenue, the opening account would still show 250.60)
    assert account_balance(unit.estate, chart.OPENING_BALANCES) == D("200.00")


def test_a_pass_through_charges_credit_note_posts_to_money_held_for_others(
    owner, unit, make_item, finance
):
    water = make_item(
        "WATERPT",
        "代收水费",
        rate=None,
        basis=FeeItem.Basis.ONE_OFF,
        treatment=FeeItem.Treatment.PASS_THROUGH,
    )
    charge = services.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=water, amount="80.00", description="代收水费 6月"
    )
    services.charge_credit_note(
        actor=finance, charge=charge, amount="30.00", reason="读数更正", idempotency_key="cn-pt"
    )
    assert account_balance(unit.estate, chart.PASS_THROUGH) == D("50.00")
