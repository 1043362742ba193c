"""Taking payments at the window: allocation order, partial payment, overpayment, bad input,
idempotency."""

from decimal import Decimal

import pytest

from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.payments.models import Payment, Receipt
from wuye.payments.services import payment_take, prepayment_balance

from .conftest import TODAY, books


def take(cashier, owner, amount, **kw):
    kw.setdefault("channel", "cash")
    return payment_take(actor=cashier, party=owner, amount=amount, today=TODAY, **kw)


def test_oldest_due_first_and_principal_before_its_late_fee(
    cashier, owner, shift, property_item, make_charge
):
    """Civil Code art. 561 (issue 11 §12): a late fee (违约金) is not interest: the period's
    principal is paid before it."""
    # given two months of arrears and a late fee on the older month
    jan = make_charge(property_item, "2026-01", "250.60")
    feb = make_charge(property_item, "2026-02", "250.60")
    late = make_charge(property_item, "2026-01", "7.50", kind="late_fee", source=jan)
    # when the owner pays 260.00 without designating charges
    payment = take(cashier, owner, "260.00")
    # then January is paid first, then its late fee, then part of February
    paid = {a.charge_id: a.amount for a in payment.allocations.all()}
    assert paid == {jan.pk: Decimal("250.60"), late.pk: Decimal("7.50"), feb.pk: Decimal("1.90")}
    feb.refresh_from_db()
    assert feb.outstanding == Decimal("248.70") and feb.status == Charge.Status.OPEN
    jan.refresh_from_db()
    assert jan.status == Charge.Status.PAID
    # and the receipt shows what was paid, in that order, the late fee marked as such
    assert [line["charge_id"] for line in payment.receipt.lines] == [jan.pk, late.pk, feb.pk]
    assert [line["late_fee"] for line in payment.receipt.lines] == [False, True, False]


def test_too_little_pays_the_principal_and_leaves_the_late_fee_open(
    cashier, owner, shift, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    late = make_charge(property_item, "2026-01", "7.50", kind="late_fee", source=jan)
    payment = take(cashier, owner, "252.00")
    paid = {a.charge_id: a.amount for a in payment.allocations.all()}
    assert paid == {jan.pk: Decimal("250.60"), late.pk: Decimal("1.40")}


def test_a_contract_may_have_late_fees_paid_first(
    cashier, owner, shift, property_item, make_charge, estate
):
    from wuye.registry.models import ServiceContract

    # given a contract agreeing that late fees are settled first (art. 561 "另有约定")
    ServiceContract.objects.filter(estate=estate).update(late_fees_first=True)
    jan = make_charge(property_item, "2026-01", "250.60")
    late = make_charge(property_item, "2026-01", "7.50", kind="late_fee", source=jan)
    payment = take(cashier, owner, "252.00")
    paid = {a.charge_id: a.amount for a in payment.allocations.all()}
    assert paid == {late.pk: Decimal("7.50"), jan.pk: Decimal("244.50")}
    assert [line["charge_id"] for line in payment.receipt.lines] == [late.pk, jan.pk]


def test_the_payer_may_designate_which_charges_to_pay(
    cashier, owner, shift, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    feb = make_charge(property_item, "2026-02", "250.60")
    payment = take(cashier, owner, "250.60", charge_ids=[feb.pk])
    assert [(a.charge_id, a.amount) for a in payment.allocations.all()] == [
        (feb.pk, Decimal("250.60"))
    ]
    jan.refresh_from_db()
    assert jan.outstanding == Decimal("250.60")


def test_overpaying_is_refused_unless_the_rest_is_kept_as_prepayment(
    cashier, owner, shift, property_item, make_charge, estate
):
    make_charge(property_item, "2026-01", "250.60")
    with pytest.raises(DomainError) as err:
        take(cashier, owner, "300.00")
    assert err.value.field == "amount" and "49.40" in err.value.message
    assert not Payment.objects.exists()
    payment = take(cashier, owner, "300.00", keep_change_as_prepayment=True)
    assert (payment.allocated, payment.prepaid) == (Decimal("250.60"), Decimal("49.40"))
    assert prepayment_balance(owner.pk) == Decimal("49.40")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
    assert b["prepayments"] == b["movements"] == Decimal("49.40")


@pytest.mark.parametrize("amount", ["-5", "0", "1.234", "abc"])
def test_bad_amounts_are_refused_naming_the_field(cashier, owner, shift, amount):
    with pytest.raises(DomainError) as err:
        take(cashier, owner, amount, keep_change_as_prepayment=True)
    assert err.value.field == "amount"
    assert not Payment.objects.exists()


def test_paying_a_paid_or_waived_charge_is_refused(
    cashier, owner, shift, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    take(cashier, owner, "250.60", charge_ids=[jan.pk])
    with pytest.raises(DomainError) as err:
        take(cashier, owner, "250.60", charge_ids=[jan.pk])
    assert err.value.code == "not_open" and err.value.field == "charges"
    assert Payment.objects.count() == 1


def test_the_same_request_twice_posts_one_payment(
    cashier, owner, shift, property_item, make_charge
):
    make_charge(property_item, "2026-01", "250.60")
    first = take(cashier, owner, "250.60", idempotency_key="form-abc")
    again = take(cashier, owner, "250.60", idempotency_key="form-abc")
    assert again.pk == first.pk
    assert Payment.objects.count() == Receipt.objects.count() == 1


def test_a_pos_voucher_is_recorded_once(cashier, owner, shift, property_item, make_charge):
    make_charge(property_item, "2026-01", "250.60")
    first = take(cashier, owner, "250.60", channel="pos", external_ref="POS-778812")
    assert take(cashier, owner, "250.60", channel="pos", external_ref="POS-778812") == first
    with pytest.raises(DomainError) as err:
        take(cashier, owner, "100.00", channel="pos", external_ref="POS-778812")
    assert err.value.field == "external_ref"


def test_window_payments_need_an_open_shift(cashier, owner, property_item, make_charge):
    make_charge(property_item, "2026-01", "250.60")
    with pytest.raises(DomainError) as err:
        take(cashier, owner, "250.60")
    assert err.value.field == "shift"


def test_small_change_is_rounded_off_as_a_waiver_when_the_estate_allows(
    cashier, owner, shift, property_item, make_charge, estate, finance
):
    from wuye.billing.models import Waiver
    from wuye.payments.services import cashier_settings_update

    jan = make_charge(property_item, "2026-01", "250.68")
    with pytest.raises(DomainError):
        take(cashier, owner, "250.60", round_off=True)
    cashier_settings_update(actor=finance, estate=estate, round_small_change=True)
    payment = take(cashier, owner, "250.60", round_off=True)
    jan.refresh_from_db()
    assert jan.status == Charge.Status.PAID and jan.outstanding == 0
    assert payment.rounded_off == Decimal("0.08")
    assert Waiver.objects.get(charge=jan).reason == "抹零"
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == 0
