"""Arrears money is summed to the fen on every database. SQLite adds DECIMAL columns as floats
(ten charges of 0.10 come to 0.9999999999999999), so a plain Sum served "1.00000000000000"
in the API, left a party owing exactly 1.00 out of "at least 1.00", and opened a case with
a float-derived amount. These run on SQLite, the default install, where the noise shows."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.collection.services.workbench import case_for_party

from .books import charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def dimes(unit, owner):
    """Ten overdue monthly charges of 0.10 (1.00 in all)."""
    for month in range(1, 11):
        charge(unit, owner, f"2025-{month:02}", "0.10", due=date(2025, month, 28))


def test_the_arrears_list_totals_and_filters_to_the_fen(collector, owner, dimes):
    api = APIClient()
    api.force_authenticate(collector)
    url = "/api/v1/collection/arrears/?as_of=2026-10-10"
    body = api.get(url).json()
    assert body["totals"]["total"] == "1.00"
    assert (body["totals"]["over"], body["totals"]["d365"]) == ("0.90", "0.10")
    [row] = body["results"]
    assert row["total"] == "1.00"
    # a party owing exactly 1.00 is "at least 1.00" and "at most 1.00", not "at most 0.99"
    assert [r["party"] for r in api.get(f"{url}&min_amount=1.00").json()["results"]] == [owner.pk]
    assert [r["party"] for r in api.get(f"{url}&max_amount=1.00").json()["results"]] == [owner.pk]
    assert api.get(f"{url}&max_amount=0.99").json()["results"] == []
    assert api.get(f"{url}&min_amount=1.01").json()["results"] == []


def test_a_case_opened_from_the_portal_carries_the_amount_to_the_fen(owner, dimes):
    case = case_for_party(party=owner, today=date(2026, 10, 10))
    assert str(case.amount) == "1.00"
    event = AuditEvent.objects.get(action="collection.case_open", subject_id=str(case.pk))
    assert Decimal(str(event.after["amount"])) == Decimal("1.00")
    assert str(event.after["amount"]) == "1.00"
