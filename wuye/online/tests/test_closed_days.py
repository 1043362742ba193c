"""Money that arrives after its day was signed off is booked on the next open business day:
the owner's charges are settled all the same, nothing posts into the closed day, and bank
money keeps the bank's booking date as its value date (issue 11 §17)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from wuye.online import services
from wuye.online.models import PaymentException
from wuye.online.providers.base import Transaction
from wuye.payments.models import Payment
from wuye.payments.services import day_sign_off
from wuye.payments.services.payments import PaymentRequest, payments_take

pytestmark = pytest.mark.django_db


def _paid(order, ref="4200000009") -> Transaction:
    return Transaction(
        provider=order.provider,
        event_id=f"EV-{ref}",
        out_trade_no=order.out_trade_no,
        transaction_id=ref,
        amount=order.amount,
        currency="CNY",
        state="SUCCESS",
        paid=True,
    )


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def signed_off(finance, estate, today):
    """Today is signed off at the estate (no shift was open)."""
    return day_sign_off(actor=finance, estate=estate, business_date=today)


def test_an_online_payment_after_the_sign_off_settles_the_charges_on_the_next_day(
    signed_off, make_order, wechat_account, charges, today, estate
):
    # given today signed off, when the owner's online payment arrives
    order = make_order(wechat_account)
    outcome = services.transaction_settle(tx=_paid(order), verified_by="query")
    # then it is posted, on tomorrow's business day, and the charges are paid
    assert outcome == "posted"
    assert not PaymentException.objects.exists()
    payment = Payment.objects.get()
    assert payment.business_date == today + timedelta(days=1)
    assert payment.value_date == today
    for charge in charges:
        charge.refresh_from_db()
        assert charge.status == "paid"
    # and its voucher is dated the open day, not the signed-off one
    from wuye.ledger.models import JournalEntry

    assert JournalEntry.objects.get(pk=payment.entry_id).date == today + timedelta(days=1)


def test_days_signed_off_in_a_row_are_all_skipped(
    signed_off, finance, make_order, wechat_account, estate, today
):
    day_sign_off(actor=finance, estate=estate, business_date=today + timedelta(days=1))
    order = make_order(wechat_account)
    services.transaction_settle(tx=_paid(order), verified_by="query")
    assert Payment.objects.get().business_date == today + timedelta(days=2)


def test_a_batch_of_online_payments_after_the_sign_off_is_booked_on_the_next_day(
    signed_off, owner, charges, today
):
    [payment] = payments_take(
        requests=[
            PaymentRequest(
                party=owner,
                amount=Decimal("250.60"),
                channel="wechat",
                charge_ids=(charges[0].pk,),
                idempotency_key="batch-1",
                external_ref="T-batch-1",
            )
        ]
    )
    assert isinstance(payment, Payment), payment
    assert payment.business_date == today + timedelta(days=1)


def test_a_bank_transfer_carries_the_banks_booking_date_as_value_date(
    signed_off, finance, owner, charges, estate, today
):
    booked = today - timedelta(days=2)
    payment = services.bank_transfer_post(
        actor=finance,
        estate=estate,
        memo=f"物业费 {owner.payment_ref}",
        amount="250.60",
        bank_ref="B20261205001",
        booked_on=booked,
    )
    assert payment.value_date == booked
    assert payment.business_date == today + timedelta(days=1)  # today is signed off


def test_the_window_is_still_refused_on_a_signed_off_day(signed_off, owner, estate, make_staff):
    from wuye.core.errors import DomainError
    from wuye.payments.services import payment_take

    with pytest.raises(DomainError) as err:
        payment_take(
            actor=make_staff("cashier", estates=[estate]),
            party=owner,
            amount="10.00",
            channel="cash",
        )
    assert err.value.code == "day_closed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_a_payment_dated_on_a_signed_off_day(signed_off, owner, today):
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Payment.objects.create(
            estate_id=owner.estate_id,
            party=owner,
            channel="cash",
            amount=Decimal("1.00"),
            business_date=today,
        )
    Payment.objects.create(
        estate_id=owner.estate_id,
        party=owner,
        channel="cash",
        amount=Decimal("1.00"),
        business_date=today + timedelta(days=1),
    )
