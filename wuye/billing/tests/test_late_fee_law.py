"""Late fees as the law and an owner expect them (issue 11 point 11, issue 13 §4): never for
days that have not passed, only for days a clause was in force, imported arrears late from
their real due date, the contract page held to the API's bounds, one line per overdue charge
with its days and total, nothing below the estate's minimum."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from wuye.billing import services
from wuye.billing.models import Charge
from wuye.billing.selectors import party_statement
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.registry.models import ServiceContract

D = Decimal
pytestmark = pytest.mark.django_db
JUNE_DUE = date(2026, 7, 1)  # June is billed on 1 June and due 30 days later


def late_fees(**filters):
    return Charge.objects.filter(kind=Charge.Kind.LATE_FEE, **filters)


def assess(estate, day):
    return services.late_fee_assess(estate=estate, as_of=day, today=day)


def test_a_day_not_yet_passed_is_refused(owner, property_fee, bill):
    bill("2026-06", as_of=date(2026, 6, 1))
    with pytest.raises(DomainError) as refused:
        services.late_fee_assess(
            estate=owner.estate, as_of=date(2026, 8, 12), today=date(2026, 8, 11)
        )
    assert refused.value.field == "as_of" and "2026-08-12" in refused.value.message
    assert not late_fees().exists()


def test_only_days_under_a_clause_earn_a_late_fee(owner, property_fee, bill):
    # given a contract without a clause until 31 July, then one with 0.03 % a day
    ServiceContract.objects.update(
        has_late_fee_clause=False, late_fee_daily_rate=None, end_date=date(2026, 7, 31)
    )
    ServiceContract.objects.create(
        estate=owner.estate,
        number="HY-2026-08",
        start_date=date(2026, 8, 1),
        has_late_fee_clause=True,
        late_fee_daily_rate=D("0.0003"),
        late_fee_grace_days=15,
    )
    bill("2026-06", as_of=date(2026, 6, 1))
    # when assessed on 11 August (late since 17 July, under a clause since 1 August)
    assess(owner.estate, date(2026, 8, 11))
    # then 11 days count, not 26: 250.60 x 0.0003 x 11 = 0.83
    fee = late_fees().get()
    assert fee.amount == D("0.83")
    assert "逾期11天" in fee.description


def test_imported_arrears_are_late_from_their_real_due_date(owner, unit, property_fee, finance):
    book = Workbook()
    sheet = book.active
    sheet.append(["unit", "fee_item", "period", "type", "amount", "date"])
    sheet.append(["1-1-301", "PROPERTY", "2026-06", "arrears", "250.60", None])
    sheet.append(["1-1-301", "PROPERTY", "2026-05", "arrears", "250.60", date(2026, 5, 20)])
    out = io.BytesIO()
    book.save(out)
    services.opening_balances_import(
        actor=finance, estate=unit.estate, content=out.getvalue(), as_of=date(2026, 8, 1)
    )
    due = dict(Charge.objects.filter(kind=Charge.Kind.OPENING).values_list("period", "due_date"))
    # the period's own due date (as a run would set it), or the one the sheet gives
    assert due == {"2026-06": JUNE_DUE, "2026-05": date(2026, 5, 20)}
    assess(unit.estate, date(2026, 8, 11))
    fees = dict(late_fees().values_list("period", "amount"))
    assert fees["2026-06"] == D("1.95")  # 26 days, not 56 from 1 June


def test_the_contract_page_holds_to_the_apis_bounds(client, make_staff, estate):
    boss = make_staff("supervisor", estates=[estate])
    contract = ServiceContract.objects.get(estate=estate)
    client.force_login(boss)
    # when 5 % a day capped at 5x the principal is entered on the page
    response = client.post(
        f"/registry/contracts/{contract.pk}/edit/",
        {
            "number": contract.number,
            "start_date": "2026-01-01",
            "pricing_mode": "lump_sum",
            "has_late_fee_clause": "on",
            "late_fee_daily_rate": "0.05",
            "late_fee_grace_days": "0",
            "late_fee_cap_ratio": "5",
        },
    )
    # then it is refused and nothing changes
    assert response.status_code == 200
    contract.refresh_from_db()
    assert (contract.late_fee_daily_rate, contract.late_fee_cap_ratio) == (D("0.0003"), D("1"))


def test_one_late_fee_line_per_overdue_charge_with_its_days_and_total(
    owner, property_fee, bill, books_balance
):
    bill("2026-06", as_of=date(2026, 6, 1))
    # when late fees are assessed on three days
    for day in (date(2026, 8, 11), date(2026, 8, 12), date(2026, 8, 13)):
        assess(owner.estate, day)
    # then the owner has one late-fee line: 28 days, 250.60 x 0.0003 x 28 = 2.11
    line = late_fees().exclude(status=Charge.Status.CANCELLED).get()
    assert (line.amount, line.outstanding) == (D("2.11"), D("2.11"))
    assert "逾期28天" in line.description and "合计2.11" in line.description
    statement = party_statement(owner)
    assert [x.debit for x in statement.lines if x.kind == "late_fee"] == [D("2.11")]
    assert not [x for x in statement.lines if x.kind == "cancelled"]
    assert statement.closing == D("252.71")
    # and the books moved by the late fee once
    assert account_balance(owner.estate, chart.LATE_FEE_INCOME) == D("2.11")
    assert books_balance(owner.estate) == (D("252.71"), D("252.71"))


def test_a_paid_late_fee_stays_and_only_the_growth_is_a_new_line(
    owner, property_fee, bill, books_balance, finance, supervisor
):
    bill("2026-06", as_of=date(2026, 6, 1))
    assess(owner.estate, date(2026, 8, 11))
    first = late_fees().get()
    waiver = services.waiver_request(actor=finance, charge=first, amount="1.95", reason="t")
    services.waiver_approve(actor=supervisor, waiver=waiver)
    assess(owner.estate, date(2026, 8, 13))
    # the waived line is kept; 0.16 more (2.11 - 1.95) is a new line
    assert sorted(late_fees().values_list("amount", flat=True)) == [D("0.16"), D("1.95")]
    assert books_balance(owner.estate) == (D("250.76"), D("250.76"))


def test_nothing_below_the_estates_minimum(owner, property_fee, bill):
    owner.estate.late_fee_minimum = D("2.00")
    owner.estate.save()
    bill("2026-06", as_of=date(2026, 6, 1))
    assess(owner.estate, date(2026, 8, 11))  # 1.95: below 2.00
    assert not late_fees().exists()
    assess(owner.estate, date(2026, 8, 13))  # 2.11: the whole of it
    assert list(late_fees().values_list("amount", flat=True)) == [D("2.11")]


def test_the_minimum_is_set_on_the_estate_page(client, make_staff, estate):
    boss = make_staff("supervisor", estates=[estate])
    client.force_login(boss)
    response = client.post(
        f"/registry/estates/{estate.pk}/edit/",
        {"name": estate.name, "hotline": "0755-1", "late_fee_minimum": "1.50"},
    )
    assert response.status_code == 302
    estate.refresh_from_db()
    assert estate.late_fee_minimum == D("1.50") and estate.fee_notice_days == 30
