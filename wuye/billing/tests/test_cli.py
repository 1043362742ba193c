"""The command line: wuye bill, wuye billing-check, wuye assess-late-fees."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from wuye.billing.models import Charge
from wuye.ledger import chart
from wuye.ledger.services import Line, entry_post

pytestmark = pytest.mark.django_db


def test_bill_dry_run_prints_the_preview_and_writes_nothing(owner, property_fee, capsys):
    call_command(
        "bill", "--period", "2026-12", "--estate", "HY", "--as-of", "2026-12-01", "--dry-run"
    )
    out = capsys.readouterr().out
    assert "PROPERTY" in out and "1 charges, 250.60" in out
    assert not Charge.objects.exists()


def test_bill_posts_and_the_books_check_passes(owner, property_fee, capsys):
    call_command("bill", "--period", "2026-12", "--estate", "HY", "--as-of", "2026-12-01")
    assert Charge.objects.get().amount == Decimal("250.60")
    call_command("billing-check")
    assert "HY: receivable 250.60 open charges 250.60 ok" in capsys.readouterr().out


def test_the_books_check_fails_loudly_on_a_difference(owner, property_fee, capsys):
    call_command("bill", "--period", "2026-12", "--estate", "HY", "--as-of", "2026-12-01")
    # a receivable posted behind the subledger's back
    entry_post(
        estate=owner.estate,
        date=owner.estate.contracts.first().start_date,
        memo="stray",
        lines=[Line(chart.RECEIVABLE, debit=Decimal("1")), Line(chart.BANK, credit=Decimal("1"))],
        idempotency_key="stray-1",
    )
    with pytest.raises(CommandError):
        call_command("billing-check")
    assert "DIFFERENCE 1.00" in capsys.readouterr().out


def test_bill_refuses_a_bad_period(owner):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("bill", "--period", "2026-13")


def test_assess_late_fees(owner, property_fee, capsys):
    # June billed on 1 June, due 1 July; 26 days late after 15 grace days on 11 August
    call_command("bill", "--period", "2026-06", "--estate", "HY", "--as-of", "2026-06-01")
    call_command("assess-late-fees", "--as-of", "2026-08-11")
    assert "HY: 1 assessed, 1 late fees, 1.95" in capsys.readouterr().out


def test_assess_late_fees_refuses_a_day_not_yet_passed(owner, property_fee):
    # issue 11 point 11: 887.40 was once assessed "as of" 2027
    call_command("bill", "--period", "2026-06", "--estate", "HY", "--as-of", "2026-06-01")
    with pytest.raises(CommandError, match="only for days that have passed"):
        call_command("assess-late-fees", "--as-of", "2099-12-31")
    assert not Charge.objects.filter(kind=Charge.Kind.LATE_FEE).exists()
