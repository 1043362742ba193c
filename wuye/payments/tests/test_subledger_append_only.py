"""The receivables subledger is append-only like the ledger: on PostgreSQL charges, payments,
allocations and receipts refuse DELETE and UPDATE of their money columns (what services still
change -- a charge's cached balance and status, a void -- passes); and `wuye billing-check`
ties prepayments, deposits and the cached balances to the ledger (issue 11 §20)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, connection, transaction

from wuye.billing.models import Charge, PrepaymentMovement
from wuye.payments.models import Allocation, Payment, Receipt
from wuye.payments.services import payment_take, payment_void

from .conftest import TODAY

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database triggers exist on PostgreSQL only"
)
REFUSED = (IntegrityError, InternalError)


@pytest.fixture
def paid(cashier, owner, unit, shift, property_item, make_charge):
    charge = make_charge(property_item, "2026-01", "250.60")
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="300.00",
        channel="cash",
        keep_change_as_prepayment=True,
        today=TODAY,
    )
    return charge, payment


def _refused(fn):
    with pytest.raises(REFUSED), transaction.atomic():
        fn()


@postgresql_only
def test_money_columns_and_rows_of_the_subledger_cannot_be_rewritten(paid):
    charge, payment = paid
    allocation = Allocation.objects.get(payment=payment)
    receipt = Receipt.objects.get(payment=payment)
    _refused(lambda: Charge.objects.filter(pk=charge.pk).update(amount=Decimal("1.00")))
    _refused(lambda: Charge.objects.filter(pk=charge.pk).delete())
    _refused(lambda: Payment.objects.filter(pk=payment.pk).update(amount=Decimal("1.00")))
    _refused(lambda: Payment.objects.filter(pk=payment.pk).update(prepaid=Decimal("0.00")))
    _refused(lambda: Allocation.objects.filter(pk=allocation.pk).update(amount=Decimal("9.99")))
    _refused(lambda: Allocation.objects.filter(pk=allocation.pk).delete())
    _refused(lambda: Receipt.objects.filter(pk=receipt.pk).update(lines=[]))
    _refused(lambda: Receipt.objects.filter(pk=receipt.pk).delete())
    # what the services still change passes: a full save with the same values, a reprint
    charge.refresh_from_db()
    charge.save()
    Receipt.objects.filter(pk=receipt.pk).update(prints=3)


@postgresql_only
def test_a_void_still_works_under_the_triggers(paid, cashier, supervisor):
    __, payment = paid
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="收错", today=TODAY
    )
    payment.refresh_from_db()
    assert payment.status == "voided" and payment.receipt.status == "void"


def test_billing_check_ties_prepayments_and_cached_balances_to_the_ledger(paid, estate):
    charge, __ = paid
    out = StringIO()
    call_command("billing-check", stdout=out)
    text = out.getvalue()
    line = f"{estate.code}: prepayments / prepayment movements: ledger 49.40 subledger 49.40 ok"
    assert line in text
    assert "cached outstanding / charges' sources: ledger 0.00 subledger 0.00 ok" in text
    assert "deposits / deposits held: ledger 0.00 subledger 0.00 ok" in text
    # a cached balance that no longer follows its sources is caught
    Charge.objects.filter(pk=charge.pk).update(outstanding=Decimal("10.00"))
    with pytest.raises(CommandError):
        call_command("billing-check", stdout=StringIO())


def test_billing_check_catches_prepayment_off_the_books(paid, estate, owner):
    PrepaymentMovement.objects.create(
        estate=estate,
        party=owner,
        kind=PrepaymentMovement.Kind.TOPUP,
        amount=Decimal("5.00"),
        date=TODAY,
        idempotency_key="off-the-books",
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("billing-check", stdout=out)
    assert "prepayments / prepayment movements: ledger 49.40 subledger 54.40 DIFFERENCE" in (
        out.getvalue()
    )
