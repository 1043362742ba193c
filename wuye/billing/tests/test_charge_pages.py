"""The staff pages of single charges: raising an ad hoc charge on a unit, the charge's page with
its corrections (credit and debit notes, waiver requests, deposit releases), the waiver queue.
Each test asserts what staff see: the amount, the status, the message next to the field."""

import html
import re
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge, CreditNote, Waiver
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.registry.models import Building, Unit

D = Decimal
pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def error_of(page: str, field: str) -> str:
    """The message shown next to `field` (empty when there is none)."""
    found = re.findall(rf'data-error="{field}">([^<]*)<', page)
    return " ".join(found)


@pytest.fixture
def repair(make_item):
    return make_item("REPAIR", "维修费", rate=None, basis="one_off", kind="repair")


@pytest.fixture
def water_for_utility(make_item):
    return make_item(
        "WATERPT",
        "代收水费",
        rate=None,
        basis="one_off",
        kind="pass_through",
        treatment="pass_through",
    )


@pytest.fixture
def december(owner, property_fee, bill):
    """December billed: one open charge of 250.60 to 张伟."""
    bill("2026-12")
    return Charge.objects.get()


def adhoc(client, estate, item, **data):
    form = {
        "estate": estate.pk,
        "unit": "1-1-301",
        "fee_item": item.pk,
        "amount": "120.00",
        "description": "厨房水龙头维修 工单WO-0012",
        "token": "t-1",
    }
    form.update(data)
    return client.post("/billing/charges/new/", form, follow=True)


# --- ad hoc charges ---------------------------------------------------------------------------


def test_finance_raises_a_repair_charge_on_a_unit(client, finance, owner, unit, repair):
    client.force_login(finance)
    # the unit's page links here with the unit filled in
    form = text(client.get(f"/billing/charges/new/?unit={unit.pk}"))
    assert 'value="1-1-301"' in form
    # when finance raises the repair to the unit
    page = text(adhoc(client, owner.estate, repair))
    # then they land on the charge, owed by the unit's payer, open
    charge = Charge.objects.get()
    assert "120.00 charged to 张伟 for unit 1-1-301." in page
    assert '<dd class="col-sm-4" id="charge-amount">120.00</dd>' in page
    assert '<dd class="col-sm-4" id="charge-status">Open</dd>' in page
    assert "厨房水龙头维修 工单WO-0012" in page
    assert (charge.kind, charge.party, charge.amount) == (Charge.Kind.ADHOC, owner, D("120.00"))
    # and a double click (the same form token) raises nothing more
    adhoc(client, owner.estate, repair)
    assert Charge.objects.count() == 1


def test_money_collected_for_the_utility_is_a_pass_through_not_revenue(
    client, finance, owner, water_for_utility
):
    client.force_login(finance)
    page = text(
        adhoc(client, owner.estate, water_for_utility, amount="86.40", description="代收水费")
    )
    assert "86.40 charged to 张伟" in page
    assert account_balance(owner.estate, chart.PASS_THROUGH) == D("86.40")
    assert account_balance(owner.estate, chart.REVENUE) == D("0.00")


def test_an_unknown_unit_and_a_zero_amount_are_named_next_to_their_fields(
    client, finance, owner, repair
):
    client.force_login(finance)
    page = text(adhoc(client, owner.estate, repair, unit="9-9-999"))
    assert error_of(page, "unit") == "华苑小区 has no unit 9-9-999"
    page = text(adhoc(client, owner.estate, repair, amount="0"))
    assert error_of(page, "amount") == "the amount must be more than 0"
    page = text(adhoc(client, owner.estate, repair, due_date="2020-01-01", bill_date="2020-02-01"))
    assert error_of(page, "due_date") == "the due date is before the bill date"
    assert not Charge.objects.exists()


def test_recurring_fees_are_not_offered_as_ad_hoc_items(
    client, finance, owner, repair, property_fee
):
    client.force_login(finance)
    page = text(client.get("/billing/charges/new/"))
    assert "维修费" in page and "物业服务费" not in page
    page = text(adhoc(client, owner.estate, property_fee))
    assert "Select a valid choice" in error_of(page, "fee_item")


def test_a_cashier_cannot_raise_charges_and_another_estates_unit_is_not_there(
    client, make_staff, finance, owner, repair, other_estate
):
    client.force_login(make_staff("cashier", estates=[owner.estate]))
    assert client.get("/billing/charges/new/").status_code == 403
    assert adhoc(client, owner.estate, repair).status_code == 403
    building = Building.objects.create(estate=other_estate, code="9", name="9栋")
    theirs = Unit.objects.create(
        estate=other_estate, building=building, number="9-1-101", gross_area=D("80")
    )
    client.force_login(finance)
    assert client.get(f"/billing/charges/new/?unit={theirs.pk}").status_code == 404
    # naming the other estate in the form is refused too
    page = text(adhoc(client, other_estate, repair, unit="9-1-101"))
    assert "Select a valid choice" in error_of(page, "estate")
    assert not Charge.objects.exists()


# --- the charge's page, credit and debit notes ------------------------------------------------


def test_a_credit_note_lowers_what_is_owed_and_shows_in_the_history(client, finance, december):
    client.force_login(finance)
    page = text(
        client.post(
            f"/billing/charges/{december.pk}/credit-note/",
            {"amount": "50.60", "reason": "面积测错", "token": "c-1"},
            follow=True,
        )
    )
    assert "Credit note of 50.60 posted." in page
    assert '<dd class="col-sm-4" id="charge-outstanding">200.00</dd>' in page
    assert "-50.60" in page and "面积测错" in page
    # the same submission again (a double click) posts nothing more
    client.post(
        f"/billing/charges/{december.pk}/credit-note/",
        {"amount": "50.60", "reason": "面积测错", "token": "c-1"},
    )
    assert CreditNote.objects.count() == 1
    statement = text(client.get(f"/billing/statements/{december.party_id}/"))
    assert 'id="statement-closing">200.00<' in statement


def test_a_credit_note_above_what_is_owed_is_refused_next_to_the_amount(client, finance, december):
    client.force_login(finance)
    response = client.post(
        f"/billing/charges/{december.pk}/credit-note/", {"amount": "300.00", "reason": "错"}
    )
    page = text(response)
    assert error_of(page, "amount") == "only 250.60 is still owed"
    assert 'id="charge-outstanding">250.60<' in page and not CreditNote.objects.exists()


def test_a_debit_note_is_a_new_charge_pointing_at_the_first(client, finance, december):
    client.force_login(finance)
    page = text(
        client.post(
            f"/billing/charges/{december.pk}/debit-note/",
            {"amount": "20.00", "reason": "少算车位灯费", "token": "d-1"},
            follow=True,
        )
    )
    note = Charge.objects.get(kind=Charge.Kind.DEBIT_NOTE)
    assert "Debit note of 20.00 raised." in page
    assert 'id="charge-amount">20.00<' in page and "少算车位灯费" in page
    assert f'href="/billing/charges/{december.pk}/"' in page  # "Corrects" the first
    assert (note.source, note.party, note.period) == (december, december.party, "2026-12")
    # a reason is needed
    page = text(client.post(f"/billing/charges/{december.pk}/debit-note/", {"amount": "5"}))
    assert error_of(page, "reason") == "This field is required."


def test_only_finance_corrects_and_only_their_estates_charges(
    client, make_staff, december, other_estate
):
    client.force_login(make_staff("cashier", estates=[december.estate]))
    page = text(client.get(f"/billing/charges/{december.pk}/"))
    assert 'id="charge-amount">250.60<' in page and 'id="credit-form"' not in page
    assert (
        client.post(
            f"/billing/charges/{december.pk}/credit-note/", {"amount": "1", "reason": "x"}
        ).status_code
        == 403
    )
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(f"/billing/charges/{december.pk}/").status_code == 404
    for action in ("credit-note", "debit-note", "waive", "deposit-release"):
        response = client.post(
            f"/billing/charges/{december.pk}/{action}/",
            {"amount": "1", "reason": "x", "action": "refund"},
        )
        assert response.status_code == 404, action
    assert not CreditNote.objects.exists() and Charge.objects.count() == 1


def test_a_deposit_not_yet_paid_cannot_be_refunded(client, finance, owner, unit, make_item):
    deposit_item = make_item(
        "RENODEP", "装修押金", rate=None, basis="one_off", kind="deposit", treatment="deposit"
    )
    deposit = services.charge_adhoc_create(
        actor=finance,
        unit=unit,
        fee_item=deposit_item,
        amount="2000.00",
        description="装修押金",
    )
    client.force_login(finance)
    page = text(client.get(f"/billing/charges/{deposit.pk}/"))
    assert 'id="deposit-held">0.00<' in page and 'id="release-form"' in page
    page = text(
        client.post(
            f"/billing/charges/{deposit.pk}/deposit-release/",
            {"action": "refund", "amount": "2000.00", "reason": "装修完工验收合格"},
        )
    )
    assert error_of(page, "amount") == "only 0.00 of this deposit is held (paid and not released)"


# --- waivers: request on the charge, decide in the queue --------------------------------------


def test_a_waiver_requested_on_the_charge_is_approved_in_the_queue(
    client, finance, supervisor, december
):
    client.force_login(finance)
    page = text(
        client.post(
            f"/billing/charges/{december.pk}/waive/",
            {"amount": "50.00", "reason": "电梯停运两周"},
            follow=True,
        )
    )
    assert "Waiver requested; a supervisor decides." in page
    assert "电梯停运两周" in page and "Requested" in page
    waiver = Waiver.objects.get()
    # the supervisor sees it to decide
    client.force_login(supervisor)
    queue = text(client.get("/billing/waivers/"))
    row = queue[queue.index(f'id="waiver-{waiver.pk}"') :]
    assert "50.00" in row[:600] and "电梯停运两周" in row[:600]
    page = text(
        client.post(f"/billing/waivers/{waiver.pk}/decide/", {"decision": "approve"}, follow=True)
    )
    assert "Waiver of 50.00 approved." in page
    page = text(client.get(f"/billing/charges/{december.pk}/"))
    assert 'id="charge-outstanding">200.60<' in page and "Approved" in page


def test_who_asked_cannot_approve_and_a_rejection_needs_a_note(
    client, make_staff, supervisor, december
):
    client.force_login(supervisor)
    client.post(f"/billing/charges/{december.pk}/waive/", {"amount": "10.00", "reason": "x"})
    waiver = Waiver.objects.get()
    page = text(client.post(f"/billing/waivers/{waiver.pk}/decide/", {"decision": "approve"}))
    assert error_of(page, "note") == "a waiver is decided by someone other than who asked for it"
    client.force_login(make_staff("supervisor", estates=[december.estate]))
    page = text(client.post(f"/billing/waivers/{waiver.pk}/decide/", {"decision": "reject"}))
    assert error_of(page, "note") == "say why the waiver is rejected"
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.REQUESTED
    page = text(
        client.post(
            f"/billing/waivers/{waiver.pk}/decide/",
            {"decision": "reject", "note": "停运已另行补偿"},
            follow=True,
        )
    )
    assert "Waiver rejected." in page
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decision_note) == (Waiver.Status.REJECTED, "停运已另行补偿")


def test_waiving_more_than_owed_from_the_list_shows_the_charge_with_the_message(
    client, finance, december
):
    client.force_login(finance)
    response = client.post(
        f"/billing/charges/{december.pk}/waive/",
        {"amount": "999.00", "reason": "x", "next": "/billing/charges/"},
    )
    page = text(response)
    assert error_of(page, "amount") == "at most 250.60 can still be waived"
    assert 'id="charge-amount">250.60<' in page and not Waiver.objects.exists()


@pytest.mark.parametrize(
    "next_url, lands_on",
    [
        ("/billing/charges/?period=2026-12", "/billing/charges/?period=2026-12"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
    ],
)
def test_after_a_waiver_request_only_pages_of_this_site_are_followed(
    client, finance, december, next_url, lands_on
):
    client.force_login(finance)
    response = client.post(
        f"/billing/charges/{december.pk}/waive/",
        {"amount": "1.00", "reason": "x", "next": next_url},
    )
    assert response["Location"] == (lands_on or f"/billing/charges/{december.pk}/")


def test_another_estates_waiver_is_not_there(client, make_staff, finance, december, other_estate):
    waiver = services.waiver_request(actor=finance, charge=december, amount="5.00", reason="x")
    client.force_login(make_staff("supervisor", estates=[other_estate]))
    response = client.post(f"/billing/waivers/{waiver.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    assert Waiver.objects.get().status == Waiver.Status.REQUESTED


def test_the_charge_list_links_each_charge_and_filters_by_kind(
    client, finance, december, repair, unit
):
    services.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=repair, amount="30", description="换门禁卡"
    )
    client.force_login(finance)
    page = text(client.get("/billing/charges/?kind=adhoc"))
    assert "换门禁卡" in page and "物业服务费" not in page
    assert f'href="/billing/charges/{december.pk}/"' in text(client.get("/billing/charges/"))
