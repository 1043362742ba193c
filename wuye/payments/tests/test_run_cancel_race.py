"""Cancelling a bill run against a payment (issue 11 point 1): the cancel locks the run's
charges, then checks them, then cancels. A run with any allocation -- even one a void has
since reversed -- is refused; a payment racing the cancel never leaves a cancelled charge
holding money. (Here, not in billing's tests: billing may not import the payments app.)"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from wuye.billing import services as billing
from wuye.billing.models import BillingRun, Charge
from wuye.billing.services import runs
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.payments.models import Allocation
from wuye.payments.services import payment_take, reversal_approve, reversal_request

from .conftest import TODAY

D = Decimal


def _march(finance, estate) -> BillingRun:
    run = billing.billing_run_create(
        actor=finance, estate=estate, period="2026-03", as_of=date(2026, 3, 1)
    )
    return billing.billing_run_post(run=run, actor=finance)


@pytest.mark.django_db
def test_a_run_whose_payment_was_voided_is_still_refused(
    finance, supervisor, cashier, shift, owner, property_item
):
    # given March billed, paid in full, and the payment voided (the charge is open again)
    run = _march(finance, owner.estate)
    payment = payment_take(actor=cashier, party=owner, amount="250.60", channel="cash", today=TODAY)
    void = reversal_request(actor=cashier, payment=payment, kind="void", reason="输错")
    reversal_approve(actor=supervisor, reversal=void, today=TODAY)
    charge = Charge.objects.get(run=run)
    assert (charge.status, charge.outstanding) == (Charge.Status.OPEN, D("250.60"))
    # when the supervisor cancels the run, it is refused: the charge holds an allocation
    with pytest.raises(DomainError) as refused:
        billing.billing_run_cancel(run=run, actor=supervisor, reason="标准录错")
    assert refused.value.code == "run_touched"
    assert BillingRun.objects.get(pk=run.pk).status == BillingRun.Status.POSTED


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks across connections need PostgreSQL"
)
def test_a_payment_racing_the_cancel_never_lands_on_a_cancelled_charge(
    finance, supervisor, cashier, shift, owner, property_item, estate, monkeypatch
):
    # given March billed (250.60) and nothing paid
    run = _march(finance, estate)
    checked, paid = threading.Event(), threading.Event()
    release = runs.metered.release

    def slow_release(charges):
        # the cancel has checked its charges; hold it until the payment is done (or blocked)
        checked.set()
        paid.wait(timeout=3)
        return release(charges)

    monkeypatch.setattr(runs.metered, "release", slow_release)
    results: dict = {}

    def cancel():
        try:
            results["cancel"] = billing.billing_run_cancel(
                run=run, actor=supervisor, reason="标准录错"
            )
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results["cancel"] = exc
        finally:
            checked.set()
            connections.close_all()

    def pay():
        try:
            checked.wait(timeout=10)
            results["pay"] = payment_take(
                actor=cashier,
                party=owner,
                amount="250.60",
                channel="cash",
                keep_change_as_prepayment=True,
                today=TODAY,
            )
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results["pay"] = exc
        finally:
            paid.set()
            connections.close_all()

    # when the cashier takes the owner's money while the supervisor cancels the run
    threads = [threading.Thread(target=cancel), threading.Thread(target=pay)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then no cancelled charge holds money
    assert not isinstance(results["pay"], Exception), results["pay"]
    cancelled = Charge.objects.filter(run=run, status=Charge.Status.CANCELLED)
    assert not Allocation.objects.filter(charge__in=cancelled).exists()
    # and whichever won, the money is either applied to an open charge or kept as prepayment
    charges_open = sum((c.outstanding for c in Charge.objects.filter(estate=estate)), start=D("0"))
    assert account_balance(estate, chart.RECEIVABLE) == charges_open
    assert charges_open >= 0
    if isinstance(results["cancel"], BillingRun):
        # the cancel won: the payment found nothing open and kept the money as prepayment
        assert account_balance(estate, chart.PREPAYMENTS) == D("250.60")
    else:
        assert getattr(results["cancel"], "code", results["cancel"]) == "run_touched"
