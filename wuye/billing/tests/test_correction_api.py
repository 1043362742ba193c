"""The API actions on charges, runs and periods: the same services, permissions and estate
scope as the pages; refusals name the field; a retried write with the same Idempotency-Key
posts once."""

from decimal import Decimal

import pytest

from wuye.billing.models import BillingPeriod, BillingRun, Charge, CreditNote, FeeStop, Waiver

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def repair(make_item):
    return make_item("REPAIR", "维修费", rate=None, basis="one_off", kind="repair")


@pytest.fixture
def december(owner, property_fee, bill):
    bill("2026-12")
    return Charge.objects.get()


def post(client, url, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data, content_type="application/json", **headers)


def test_an_ad_hoc_charge_by_api_is_raised_once_per_key(client, finance, owner, unit, repair):
    client.force_login(finance)
    body = {"unit": unit.pk, "fee_item": repair.pk, "amount": "120.00", "description": "换锁"}
    first = post(client, "/api/v1/billing/charges/", body, key="k-adhoc-1")
    again = post(client, "/api/v1/billing/charges/", body, key="k-adhoc-1")
    assert first.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"] and Charge.objects.count() == 1
    assert (first.json()["amount"], first.json()["kind"], first.json()["status"]) == (
        "120.00",
        "adhoc",
        "open",
    )
    bad = post(client, "/api/v1/billing/charges/", {**body, "amount": "1.234"})
    assert bad.status_code == 400 and bad.json()["field"] == "amount"


def test_corrections_by_api_show_in_the_charges_history(client, finance, supervisor, december):
    client.force_login(finance)
    url = f"/api/v1/billing/charges/{december.pk}"
    credit = post(client, f"{url}/credit-notes/", {"amount": "50.60", "reason": "面积"}, "k-c")
    post(client, f"{url}/credit-notes/", {"amount": "50.60", "reason": "面积"}, "k-c")
    assert credit.status_code == 201 and CreditNote.objects.count() == 1
    debit = post(client, f"{url}/debit-notes/", {"amount": "20.00", "reason": "少算"})
    assert debit.status_code == 201 and debit.json()["kind"] == "debit_note"
    waiver = post(client, f"{url}/waivers/", {"amount": "10.00", "reason": "停电"})
    assert waiver.status_code == 201 and waiver.json()["status"] == "requested"
    too_much = post(client, f"{url}/waivers/", {"amount": "500.00", "reason": "x"})
    assert too_much.status_code == 400 and too_much.json()["field"] == "amount"
    # finance may not decide; the supervisor approves
    decide = f"/api/v1/billing/waivers/{waiver.json()['id']}/decide/"
    assert post(client, decide, {"decision": "approve"}).status_code == 403
    client.force_login(supervisor)
    approved = post(client, decide, {"decision": "approve"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    detail = client.get(f"{url}/").json()
    assert (detail["amount"], detail["outstanding"]) == ("250.60", "190.00")
    assert [n["amount"] for n in detail["credit_notes"]] == ["50.60"]
    assert [n["amount"] for n in detail["debit_notes"]] == ["20.00"]
    assert [w["status"] for w in detail["waivers"]] == ["approved"]


def test_another_estates_charges_and_waivers_are_404_by_api(
    client, finance, make_staff, december, other_estate
):
    waiver = Waiver.objects.create(estate=december.estate, charge=december, amount=1, reason="x")
    client.force_login(make_staff("supervisor", estates=[other_estate]))
    url = f"/api/v1/billing/charges/{december.pk}"
    assert client.get(f"{url}/").status_code == 404
    for action in ("credit-notes", "debit-notes", "waivers", "deposit-releases"):
        response = post(
            client, f"{url}/{action}/", {"amount": "1", "reason": "x", "action": "refund"}
        )
        assert response.status_code == 404, action
    decide = post(client, f"/api/v1/billing/waivers/{waiver.pk}/decide/", {"decision": "approve"})
    assert decide.status_code == 404
    assert Charge.objects.count() == 1 and not CreditNote.objects.exists()


def test_fee_stops_periods_and_run_cancel_by_api(
    client, finance, supervisor, owner, unit, property_fee, bill
):
    run = bill("2026-12")
    client.force_login(finance)
    stopped = post(
        client,
        "/api/v1/billing/fee-stops/",
        {"unit": unit.pk, "fee_item": property_fee.pk, "from_date": "2027-02-01", "reason": "合并"},
    )
    assert stopped.status_code == 201 and stopped.json()["from_date"] == "2027-02-01"
    assert client.get("/api/v1/billing/fee-stops/").json()[0]["unit"] == "1-1-301"
    assert FeeStop.objects.count() == 1
    # finance may neither close a period nor cancel a run
    close = {"estate": "HY", "period": "2026-12"}
    assert post(client, "/api/v1/billing/periods/close/", close).status_code == 403
    assert (
        post(client, f"/api/v1/billing/runs/{run.pk}/cancel/", {"reason": "x"}).status_code == 403
    )
    client.force_login(supervisor)
    cancelled = post(client, f"/api/v1/billing/runs/{run.pk}/cancel/", {"reason": "标准录错"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    closed = post(client, "/api/v1/billing/periods/close/", close)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    bad = post(client, "/api/v1/billing/periods/close/", {"estate": "HY", "period": "12/2026"})
    assert bad.status_code == 400 and bad.json()["field"] == "period"
    refused = post(client, "/api/v1/billing/runs/", {"estate": "HY", "period": "2026-12"})
    assert refused.status_code == 400 and "closed" in refused.json()["detail"]
    assert BillingRun.objects.get().status == BillingRun.Status.CANCELLED
    assert BillingPeriod.objects.get(period="2026-12").status == BillingPeriod.Status.CLOSED
