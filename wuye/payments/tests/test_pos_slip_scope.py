"""A POS slip's 6-digit reference is unique per estate, terminal and business day only
(issue 11 §10): the same number on another day, terminal or estate is a new payment; the
same slip sent again the same day returns the payment already taken."""

from datetime import timedelta
from decimal import Decimal

from wuye.payments.models import Payment
from wuye.payments.services import payment_take, shift_open

from .conftest import TODAY

D = Decimal


def _pos(cashier, party, *, terminal="T01", ref="000123", amount="100.00", today=TODAY):
    return payment_take(
        actor=cashier,
        party=party,
        amount=amount,
        channel="pos",
        external_ref=ref,
        terminal=terminal,
        keep_change_as_prepayment=True,
        today=today,
    )


def test_the_same_slip_number_on_another_day_or_terminal_is_another_payment(cashier, owner, shift):
    first = _pos(cashier, owner)
    # the same slip sent again the same day: the payment already taken
    assert _pos(cashier, owner).pk == first.pk
    # the same 6 digits on another terminal the same day: a new payment
    other_terminal = _pos(cashier, owner, terminal="T02")
    assert other_terminal.pk != first.pk
    # the same 6 digits on the same terminal the next day: a new payment
    next_day = _pos(cashier, owner, today=TODAY + timedelta(days=1))
    assert next_day.pk not in (first.pk, other_terminal.pk)
    assert Payment.objects.filter(channel="pos").count() == 3
    assert sum(Payment.objects.values_list("amount", flat=True), D(0)) == D("300.00")


def test_the_same_slip_number_in_another_estate_is_another_payment(
    make_staff, cashier, owner, shift, other_estate
):
    from wuye.registry.models import Party

    first = _pos(cashier, owner)
    there = make_staff("cashier", estates=[other_estate])
    shift_open(actor=there, estate=other_estate, today=TODAY)
    someone = Party.objects.create(estate=other_estate, name="钱七")
    second = _pos(there, someone)
    assert second.pk != first.pk and second.estate_id == other_estate.pk
