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
    call_command("bill", "--period", "2026-12", "--estate", "HY", "--as-of", "2026-12-01")
    call_command("assess-late-fees", "--as-of", "2027-02-10")
    assert "HY: 1 assessed, 1 late fees, 1.95" in capsys.readouterr().out
