"""The dashboard's collection figures against a small set worked out by hand: unpaid
households by reason (with those no case covers yet, before any dunning run), collectors'
recovered money (credited when the money comes, taken back by a refund), and service
disputes with their resolution times. None of them reads payments; only "no arrears case
yet" reads charges (it must count parties and overdue money as the cases do)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wuye.reports import collection_seam, dashboard, selectors

D = Decimal
AS_OF = date(2026, 12, 7)


def _at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def books(estate, households, bill):
    """Nov and Dec billed: 200.00 a month to each of A1, A2, B1; nobody has paid."""
    bill("2026-11", date(2026, 11, 1))
    bill("2026-12", date(2026, 12, 1))
    return households


def _case(estate, party, *, reason="", assignee=None, amount="400.00"):
    from wuye.collection.models import ArrearsCase

    return ArrearsCase.objects.create(
        estate=estate,
        party=party,
        reason=reason,
        assignee=assignee,
        amount=D(amount),
        opened_on=date(2026, 12, 1),
    )


def test_before_any_dunning_run_every_household_owing_is_one_line(estate, books):
    scope = selectors.Scope(estate_ids=(estate.pk,))
    rows = dashboard.figures(scope, AS_OF).reasons
    # three households owe November's 200.00 each (December's bill is not yet due: owed, not
    # arrears) and no case exists yet
    assert rows == [
        {
            "reason": collection_seam.NO_CASE,
            "label": collection_seam.reason_labels()[collection_seam.NO_CASE],
            "households": 3,
            "amount": D("600.00"),
        }
    ]


def test_cases_by_reason_and_the_rest_without_a_case(estate, books, make_staff, client):
    _case(estate, books["A1"][1], reason="hardship", amount="400.00")
    _case(estate, books["A2"][1], amount="400.00")
    scope = selectors.Scope(estate_ids=(estate.pk,))
    rows = {
        r["reason"]: (r["households"], r["amount"]) for r in dashboard.figures(scope, AS_OF).reasons
    }
    assert rows == {
        "hardship": (1, D("400.00")),
        collection_seam.NO_REASON: (1, D("400.00")),
        collection_seam.NO_CASE: (1, D("200.00")),  # B1's November; December is not yet due
    }
    # the drill-down of "no case yet" is B1's charges only
    supervisor = make_staff("supervisor", estates=[estate])
    client.force_login(supervisor)
    page = client.get(
        "/reports/drill/", {"reason": collection_seam.NO_CASE, "as_of": AS_OF}
    ).content.decode()
    assert "2-1-101" in page and "1-1-101" not in page and "1-1-102" not in page


def test_no_case_yet_is_what_the_dunning_run_then_opens_cases_for(
    estate, households, bill, fee, client, make_staff
):
    """The line counts parties (not units) and overdue money net of prepayment, as the cases
    do: the dunning run that follows opens exactly those cases for exactly that money."""
    from wuye.billing.models import PrepaymentMovement
    from wuye.collection.models import ArrearsCase
    from wuye.collection.services.policies import policy_default
    from wuye.collection.services.run import dunning_run
    from wuye.registry.models import Unit, UnitParty

    a1 = households["A1"][1]
    second = Unit.objects.create(
        estate=estate, building=households["A1"][0].building, number="1-1-103",
        gross_area=D("100.00"), handover_date=date(2025, 1, 1), fee_start_date=date(2025, 1, 1),
    )  # fmt: skip
    UnitParty.objects.create(
        estate=estate, unit=second, party=a1, start_date=date(2025, 1, 1), is_payer=True
    )
    bill("2026-11", date(2026, 11, 1))
    bill("2026-12", date(2026, 12, 1))
    PrepaymentMovement.objects.create(
        estate=estate, party=households["A2"][1], kind="opening", amount=D("50.00"),
        date=date(2026, 12, 2), idempotency_key="test-a2-opening",
    )  # fmt: skip
    scope = selectors.Scope(estate_ids=(estate.pk,))
    before = {r["reason"]: r for r in dashboard.figures(scope, AS_OF).reasons}
    # A1 is one household with two units (400.00), A2 owes 200.00 less 50.00 paid ahead, B1
    # 200.00; December's bill (not yet due) is nobody's arrears
    assert (before["none"]["households"], before["none"]["amount"]) == (3, D("750.00"))
    policy_default(estate=estate)
    dunning_run(as_of=AS_OF, estate_id=estate.pk)
    cases = ArrearsCase.objects.all()
    assert (cases.count(), sum(c.amount for c in cases)) == (3, D("750.00"))
    after = {r["reason"] for r in dashboard.figures(scope, AS_OF).reasons}
    assert collection_seam.NO_CASE not in after
    # the report table says the same
    client.force_login(make_staff("supervisor", estates=[estate]))
    table = client.get("/api/v1/reports/reasons/", {"as_of": AS_OF}).json()
    assert "none" not in {r["reason"] for r in table["rows"]}


def test_recovered_money_is_credited_when_it_comes_and_a_refund_takes_it_back(
    estate, books, make_staff, cashier, supervisor, shift_on
):
    from wuye.payments.services import payment_refund, payment_take

    li = make_staff("collector", estates=[estate])
    wang = make_staff("collector", estates=[estate])
    case = _case(estate, books["A1"][1], reason="forgot", assignee=li)
    shift_on(date(2026, 12, 3))
    paid = payment_take(
        actor=cashier, party=books["A1"][1], amount="300.00", channel="cash",
        today=date(2026, 12, 3),
    )  # fmt: skip
    # B1 has no case: its money is nobody's recovery
    payment_take(
        actor=cashier, party=books["B1"][1], amount="400.00", channel="cash",
        today=date(2026, 12, 3),
    )  # fmt: skip
    # the case passes to Wang: what Li recovered stays Li's; Wang's money is Wang's
    case.assignee = wang
    case.save()
    payment_take(
        actor=cashier, party=books["A1"][1], amount="50.00", channel="cash",
        today=date(2026, 12, 4),
    )  # fmt: skip
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=paid,
        reason="paid twice",
        amount="20.00",
        charges={paid.allocations.order_by("id").last().charge_id: "20.00"},
        refund_channel="cash",
        today=date(2026, 12, 5),
    )
    scope = selectors.Scope(estate_ids=(estate.pk,))
    rows = {
        r["user_id"]: r["recovered"]
        for r in collection_seam.collector_performance(scope.estate_ids, date(2026, 12, 1), AS_OF)
    }
    assert rows == {li.pk: D("280.00"), wang.pk: D("50.00")}


def test_disputes_and_their_resolution_times(estate, books, make_staff, client):
    from wuye.collection.models import Dispute, WorkOrder

    a1, a2, b1 = (books[k][1] for k in ("A1", "A2", "B1"))

    def dispute(party, category, raised, resolved=None):
        return Dispute.objects.create(
            estate=estate, party=party, category=category, description="x", source="staff",
            raised_at=raised, resolved_at=resolved, status="resolved" if resolved else "open",
        )  # fmt: skip

    leak = dispute(a1, "leak", _at(date(2026, 12, 1)), _at(date(2026, 12, 2), 21))  # 36 h
    dispute(a2, "leak", _at(date(2026, 12, 2)), _at(date(2026, 12, 3)))  # 24 h
    dispute(b1, "noise", _at(date(2026, 11, 20)))  # raised last month, still open
    dispute(b1, "cleaning", _at(date(2026, 12, 5)), _at(date(2026, 12, 9)))  # after the date
    WorkOrder.objects.create(
        estate=estate, dispute=leak, number="WO-1", department="engineering", category="leak",
        promised_by=_at(date(2026, 12, 1), 18), closed_at=_at(date(2026, 12, 2), 21),
    )  # fmt: skip
    WorkOrder.objects.create(
        estate=estate, dispute=leak, number="WO-2", department="engineering", category="noise",
        promised_by=_at(date(2026, 12, 6)),
    )  # fmt: skip
    rows = {
        r["category"]: r for r in collection_seam.disputes((estate.pk,), date(2026, 12, 1), AS_OF)
    }
    assert rows["leak"] | {"label": ""} == {
        "category": "leak", "label": "", "raised": 2, "resolved": 2, "open": 0,
        "overdue_work_orders": 0, "median_hours": 30.0, "longest_hours": 36.0,
    }  # fmt: skip
    assert (rows["noise"]["raised"], rows["noise"]["open"]) == (0, 1)
    assert rows["noise"]["overdue_work_orders"] == 1  # WO-2: due 12-06, not closed
    assert (rows["cleaning"]["raised"], rows["cleaning"]["open"]) == (1, 1)  # resolved later
    total = rows[""]
    assert (total["raised"], total["resolved"], total["open"]) == (3, 2, 2)
    assert total["median_hours"] == 30.0
    # the same as a report table (and its export)
    client.force_login(make_staff("supervisor", estates=[estate]))
    page = client.get(
        "/reports/tables/disputes/", {"start": "2026-12-01", "end": "2026-12-07"}
    ).content.decode()
    assert "30.0" in page and "36.0" in page


def test_the_dashboard_reads_no_charges_or_payments(estate, books, cashier, shift_on):
    from wuye.payments.services import payment_take

    shift_on(date(2026, 12, 3))
    payment_take(
        actor=cashier, party=books["A1"][1], amount="300.00", channel="cash",
        today=date(2026, 12, 3),
    )  # fmt: skip
    scope = selectors.Scope(estate_ids=(estate.pk,))
    with CaptureQueriesContext(connection) as queries:
        f = dashboard.figures(scope, AS_OF)
    # the payment is there without any refresh: cells plus its deltas
    assert f.split.current == D("100.00") and f.split.arrears == D("200.00")
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    for table in ("payments_payment", "payments_allocation"):
        assert table not in sql
    # charges are read for one line only, "no arrears case yet" (charges of parties without
    # an open case: after an estate's dunning run, only those fallen due since)
    reads = [q["sql"] for q in queries.captured_queries if "billing_charge" in q["sql"]]
    assert 1 <= len(reads) <= 2
    assert all("collection_arrearscase" in q for q in reads)
    assert "reports_celldelta" in sql
