"""The owner's statement in the app after the office voids or refunds a payment: the payment
stays as it was, the void or refund is its own line on the day it was approved, and the
balance owed comes back."""

from datetime import date

import pytest
from django.core.cache import cache

from wuye.payments.services import payment_refund, payment_take, payment_void, shift_open

from .test_api_auth import app_for, sign_in

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(make_staff, estate):
    cashier = make_staff("cashier", estates=[estate])
    shift_open(actor=cashier, estate=estate, today=DAY)
    return cashier, make_staff("supervisor", estates=[estate])


def account(app) -> dict:
    (only,) = app.get("/api/v1/owner/statement").json()["accounts"]
    return only


def test_a_voided_payment_is_owed_again_on_the_owners_statement(owner, charges, staff):
    cashier, supervisor = staff
    app = app_for(sign_in(owner.mobile))
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=DAY)
    assert account(app)["closing"] == "250.60"
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="收错户", today=DAY
    )
    statement = account(app)
    assert statement["closing"] == "501.20"
    kinds = [(line["kind"], line["debit"], line["credit"]) for line in statement["lines"]]
    assert ("payment", "0.00", "250.60") in kinds and ("void", "250.60", "0.00") in kinds


def test_a_refund_shows_as_its_own_line_for_the_owner(owner, charges, staff):
    cashier, supervisor = staff
    app = app_for(sign_in(owner.mobile))
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=DAY)
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=payment,
        reason="多收",
        charges={charges[0].pk: "100.00"},
        today=DAY,
    )
    statement = account(app)
    assert statement["closing"] == "350.60"
    (refund,) = [line for line in statement["lines"] if line["kind"] == "refund"]
    assert refund["debit"] == "100.00" and "多收" in refund["text"]
