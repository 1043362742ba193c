"""Deferred revenue (issue 11 §15): fees of a period that starts after the month they are raised
in are advance receipts (合同负债) until their month, then recognised by a monthly entry,
idempotent per month and refused for a closed period; the trial balance shows both accounts
and `wuye billing-check` ties the liability to the charges not yet recognised."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wuye.billing import checks, services
from wuye.billing.models import Charge, RevenueRecognition
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.models import JournalEntry
from wuye.ledger.selectors import account_balance, trial_balance
from wuye.ledger.services import period_close

D = Decimal
pytestmark = pytest.mark.django_db
JUNE_20 = date(2026, 6, 20)


def revenue(estate):
    return account_balance(estate, chart.revenue_account("PROPERTY"))


def liability(estate):
    return account_balance(estate, chart.CONTRACT_LIABILITY)


def liability_check_ok(estate):
    rows = [c for c in checks.run(estate.code) if c.what.startswith("contract liability")]
    assert len(rows) == 1
    return rows[0].ok, rows[0].ledger, rows[0].subledger


def ahead(unit, item, period, actor):
    """The unit's charge of `period` raised on 20 June, as paying ahead at the window does."""
    [charge] = services.charge_period_create(
        actor=actor, unit=unit, fee_item=item, period=period, today=JUNE_20
    )
    return charge


def test_months_raised_ahead_are_a_contract_liability_until_their_month(
    owner, unit, property_fee, finance
):
    estate = unit.estate
    # Paying three months ahead on 20 June: 250.60 a month (89.50 m2 x 2.80)
    for period in ("2026-07", "2026-08", "2026-09"):
        ahead(unit, property_fee, period, finance)
    # (posted as revenue, June would show 751.80 of revenue for July to September)
    assert revenue(estate) == D("0.00")
    assert liability(estate) == D("751.80")
    assert liability_check_ok(estate) == (True, D("751.80"), D("751.80"))

    # June's recognition finds nothing of June; July's moves July's month only
    services.revenue_recognise(estate=estate, month="2026-06", today=JUNE_20)
    assert revenue(estate) == D("0.00")
    services.revenue_recognise(estate=estate, month="2026-07", today=date(2026, 7, 1))
    assert (revenue(estate), liability(estate)) == (D("250.60"), D("501.20"))

    # asked again (the job runs daily): nothing more is posted
    entries = JournalEntry.objects.count()
    again = services.revenue_recognise(estate=estate, month="2026-07", today=date(2026, 7, 2))
    assert JournalEntry.objects.count() == entries
    assert again.amount == D("250.60") and again.charges == 1

    # a credit note before its month lowers the liability, and only the rest is recognised
    august = Charge.objects.get(period="2026-08")
    services.charge_credit_note(
        actor=finance, charge=august, amount="50.60", reason="面积更正", idempotency_key="cn-8"
    )
    assert liability(estate) == D("450.60")
    services.revenue_recognise(estate=estate, month="2026-08", today=date(2026, 8, 1))
    assert (revenue(estate), liability(estate)) == (D("450.60"), D("250.60"))
    assert liability_check_ok(estate)[0]

    # after its month a credit note lowers revenue, not the liability
    services.charge_credit_note(
        actor=finance, charge=august, amount="0.60", reason="尾差", idempotency_key="cn-8b"
    )
    assert (revenue(estate), liability(estate)) == (D("450.00"), D("250.60"))

    # the trial balance shows both accounts
    rows = {row.code: row for row in trial_balance([estate.pk]).rows}
    assert rows[chart.CONTRACT_LIABILITY].debits == D("501.20")
    assert rows[chart.CONTRACT_LIABILITY].credits == D("751.80")
    assert rows[chart.revenue_account("PROPERTY")].credits == D("450.60")


def test_a_month_not_begun_or_closed_is_refused_and_caught_up_later(
    owner, unit, property_fee, finance
):
    estate = unit.estate
    ahead(unit, property_fee, "2026-08", finance)
    with pytest.raises(DomainError, match="has not begun"):
        services.revenue_recognise(estate=estate, month="2026-08", today=date(2026, 7, 31))
    # finance closes June to August (结账) without recognising August
    for month in (6, 7, 8):
        period_close(actor=finance, estate=estate, month=date(2026, month, 1))
    with pytest.raises(DomainError, match="closed") as refused:
        services.revenue_recognise(estate=estate, month="2026-08", today=date(2026, 9, 1))
    assert refused.value.code == "period_closed"
    assert not RevenueRecognition.objects.filter(done_at__isnull=False).exists()
    # September's recognition catches August's charge up
    rec = services.revenue_recognise(estate=estate, month="2026-09", today=date(2026, 9, 1))
    assert (rec.amount, revenue(estate), liability(estate)) == (D("250.60"),) * 2 + (D("0.00"),)
    assert JournalEntry.objects.get(pk=rec.entry_id).date == date(2026, 9, 1)


def test_a_run_billed_in_advance_is_deferred_and_its_cancel_moves_everything_back(
    owner, unit, make_item, finance, supervisor, bill
):
    estate = unit.estate
    make_item(advance_days=10)  # August's bill is raised on 22 July
    bill("2026-08", as_of=date(2026, 7, 25))
    assert (revenue(estate), liability(estate)) == (D("0.00"), D("250.60"))
    services.revenue_recognise(estate=estate, month="2026-08", today=date(2026, 8, 1))
    assert (revenue(estate), liability(estate)) == (D("250.60"), D("0.00"))
    run = Charge.objects.get(period="2026-08").run
    services.billing_run_cancel(run=run, actor=supervisor, reason="标准错")
    # (reversing the run's entry alone would leave revenue 250.60 and the liability -250.60)
    assert (revenue(estate), liability(estate)) == (D("0.00"), D("0.00"))
    assert all(c.ok for c in checks.run(estate.code) if c.estate == estate.code)


def test_the_command_recognises_every_estate_once_and_fails_on_a_refusal(
    owner, unit, property_fee, finance
):
    estate = unit.estate
    ahead(unit, property_fee, "2026-07", finance)
    out = io.StringIO()
    call_command("recognise-revenue", month="2026-07", estate=estate.code, stdout=out)
    assert f"{estate.code} 2026-07: 250.60 recognised (1 charges)" in out.getvalue()
    call_command("recognise-revenue", month="2026-07", estate=estate.code, stdout=out)
    assert revenue(estate) == D("250.60")
    with pytest.raises(CommandError, match="refused"):
        call_command("recognise-revenue", month="2099-01", estate=estate.code, stdout=out)


def test_the_scheduled_job_is_listed():
    from wuye.billing.schedule import JOBS

    job = next(j for j in JOBS if j.name == "billing.recognise_revenue")
    assert job.task == "wuye.billing.tasks.recognise_revenue" and job.date_kwarg == "as_of"
