"""Helpers for the ledger tests: simple lines, PostgreSQL's deferred checks on demand."""

from decimal import Decimal

import pytest
from django.db import connection

from wuye.ledger import chart
from wuye.ledger.services import Line


def billing_lines(amount: str, party_id: int | None = None) -> list[Line]:
    """A bill: the receivable up, revenue up."""
    return [
        Line(chart.RECEIVABLE, debit=Decimal(amount), party_id=party_id),
        Line(chart.REVENUE, credit=Decimal(amount)),
    ]


def check_deferred_constraints() -> None:
    """Run PostgreSQL's deferred balance checks now (they normally run at commit, which a
    test inside a rolled-back transaction never reaches), then defer them again."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ledger_entry_balanced, ledger_posting_balanced IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ledger_entry_balanced, ledger_posting_balanced DEFERRED")


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database triggers exist on PostgreSQL only"
)
