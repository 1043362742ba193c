"""Staff pages of runs and periods: cancelling a run, stopping a unit's fee from a date,
closing a billing period. What staff see: the status, the amount, the message next to the
field."""

import html
import re
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import BillingPeriod, BillingRun, Charge, FeeStop

D = Decimal
pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def error_of(page: str, field: str) -> str:
    return " ".join(re.findall(rf'data-error="{field}">([^<]*)<', page))


# --- cancelling a run ---------------------------------------------------------------------------


def test_a_supervisor_cancels_a_posted_run_from_its_page(
    client, supervisor, owner, property_fee, bill
):
    run = bill("2026-12")
    client.force_login(supervisor)
    page = text(client.get(f"/billing/runs/{run.pk}/"))
    assert 'id="run-cancel"' in page and "1 charges, 250.60" in page
    page = text(client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "标准录错"}, follow=True))
    assert "The run is cancelled and its entries reversed." in page
    assert "Status: <strong>Cancelled</strong>" in page and "标准录错" in page
    assert 'id="run-cancel"' not in page
    charges = text(client.get(f"/billing/charges/?run={run.pk}"))
    assert "Cancelled" in charges and "250.60" in charges
    assert Charge.objects.get().outstanding == D("0.00")


def test_a_run_with_a_waived_charge_stays_and_says_why(
    client, finance, supervisor, owner, property_fee, bill
):
    run = bill("2026-12")
    waiver = services.waiver_request(
        actor=finance, charge=Charge.objects.get(), amount="10.00", reason="x"
    )
    services.waiver_approve(actor=supervisor, waiver=waiver)
    client.force_login(supervisor)
    page = text(client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "标准录错"}))
    assert error_of(page, "form") == (
        "charges of this run are already paid, waived or carry late fees (e.g. unit 1-1-301); "
        "correct them one by one instead"
    )
    assert "Status: <strong>Posted</strong>" in page
    assert BillingRun.objects.get().status == BillingRun.Status.POSTED


def test_a_cancel_without_a_reason_is_refused_next_to_the_reason(
    client, supervisor, owner, property_fee, bill
):
    run = bill("2026-12")
    client.force_login(supervisor)
    page = text(client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "  "}))
    assert error_of(page, "reason") == "This field is required."
    assert BillingRun.objects.get().status == BillingRun.Status.POSTED


def test_finance_cannot_cancel_and_another_estates_run_is_not_there(
    client, finance, make_staff, owner, property_fee, bill, other_estate
):
    run = bill("2026-12")
    client.force_login(finance)
    assert 'id="run-cancel"' not in text(client.get(f"/billing/runs/{run.pk}/"))
    assert client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "x"}).status_code == 403
    client.force_login(make_staff("supervisor", estates=[other_estate]))
    assert client.post(f"/billing/runs/{run.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert BillingRun.objects.get().status == BillingRun.Status.POSTED


# --- stopping a unit's fee -----------------------------------------------------------------------


def stop(client, estate, item, **data):
    form = {
        "estate": estate.pk,
        "unit": "1-1-301",
        "fee_item": item.pk,
        "from_date": "2026-12-11",
        "reason": "开发商回购",
    }
    form.update(data)
    return client.post("/billing/fee-stops/", form, follow=True)


def test_finance_stops_a_units_fee_and_runs_bill_only_the_days_before(
    client, finance, owner, property_fee, bill
):
    client.force_login(finance)
    page = text(stop(client, owner.estate, property_fee))
    assert "1-1-301: 物业服务费 stops from 2026-12-11." in page
    assert "开发商回购" in page
    bill("2026-12")
    bill("2027-01")
    # ten days of December (250.60 x 10 / 31), nothing after
    assert list(Charge.objects.values_list("period", "amount")) == [("2026-12", D("80.84"))]


def test_a_second_stop_on_another_day_and_an_unknown_unit_are_named_next_to_the_field(
    client, finance, owner, property_fee
):
    client.force_login(finance)
    stop(client, owner.estate, property_fee)
    page = text(stop(client, owner.estate, property_fee, from_date="2027-01-01"))
    assert error_of(page, "from_date") == "1-1-301 already stops 物业服务费 from 2026-12-11"
    page = text(stop(client, owner.estate, property_fee, unit="8-8-808"))
    assert error_of(page, "unit") == "华苑小区 has no unit 8-8-808"
    page = text(stop(client, owner.estate, property_fee, reason=""))
    assert error_of(page, "reason") == "This field is required."
    assert FeeStop.objects.count() == 1


def test_a_cashier_sees_fee_stops_but_cannot_stop_one(client, make_staff, owner, property_fee):
    client.force_login(make_staff("cashier", estates=[owner.estate]))
    page = text(client.get("/billing/fee-stops/"))
    assert "No fee is stopped." in page and 'id="fee-stop-form"' not in page
    assert stop(client, owner.estate, property_fee).status_code == 403
    assert not FeeStop.objects.exists()


# --- closing a billing period --------------------------------------------------------------------


def test_a_supervisor_closes_a_period_and_no_run_bills_it_afterwards(
    client, supervisor, owner, property_fee
):
    client.force_login(supervisor)
    page = text(
        client.post(
            "/billing/periods/", {"estate": owner.estate.pk, "period": "2026-12"}, follow=True
        )
    )
    assert "华苑小区: period 2026-12 is closed." in page
    row = page[page.index('id="periods"') :]
    assert "2026-12" in row and "Closed" in row
    page = text(
        client.post(
            "/billing/runs/new/",
            {"estate": owner.estate.pk, "period": "2026-12", "as_of": "2026-12-01"},
        )
    )
    assert "华苑小区: period 2026-12 is closed; no more runs for it" in page
    assert not BillingRun.objects.exists()


def test_a_bad_period_is_named_and_finance_may_only_look(client, finance, supervisor, owner):
    client.force_login(supervisor)
    page = text(client.post("/billing/periods/", {"estate": owner.estate.pk, "period": "2026-13"}))
    assert error_of(page, "period").startswith("not a period: 2026-13")
    client.force_login(finance)
    page = text(client.get("/billing/periods/"))
    assert "No period billed yet." in page and 'id="period-close-form"' not in page
    response = client.post("/billing/periods/", {"estate": owner.estate.pk, "period": "2026-12"})
    assert response.status_code == 403
    assert not BillingPeriod.objects.filter(status=BillingPeriod.Status.CLOSED).exists()


def test_another_estates_period_cannot_be_closed(client, make_staff, owner, other_estate):
    client.force_login(make_staff("supervisor", estates=[other_estate]))
    page = text(client.post("/billing/periods/", {"estate": owner.estate.pk, "period": "2026-12"}))
    assert "Select a valid choice" in error_of(page, "estate")
    assert not BillingPeriod.objects.exists()
