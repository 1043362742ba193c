"""Ad hoc charges, pass-through and deposits, waivers, credit and debit notes, outstanding."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import outstanding, services
from wuye.billing.models import Charge, DepositRelease, Waiver
from wuye.core.errors import DomainError, PermissionDenied
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.ledger.services import Line, entry_post

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_payments():
    """Stands in for the payments app: pays a charge (Dr BANK, Cr RECEIVABLE) and reports the
    settled amounts through the billing hook."""
    paid: dict[int, Decimal] = {}

    def settled(ids):
        return {i: paid[i] for i in ids if i in paid}

    outstanding.register(settled)

    def pay(charge, amount):
        paid[charge.pk] = paid.get(charge.pk, D(0)) + D(amount)
        entry_post(
            estate=charge.estate_id,
            date=date(2026, 12, 5),
            memo="test payment",
            lines=[Line(chart.BANK, debit=D(amount)), Line(chart.RECEIVABLE, credit=D(amount))],
            idempotency_key=f"test-pay:{charge.pk}:{paid[charge.pk]}",
        )
        return services.charge_refresh(charge=charge)

    yield pay
    outstanding.unregister(settled)


def test_a_pass_through_charge_never_reaches_revenue(
    owner, unit, make_item, finance, books_balance
):
    water = make_item(
        "WATER",
        "代收水费",
        rate=None,
        basis="one_off",
        kind="pass_through",
        treatment="pass_through",
    )
    services.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=water, amount="86.40", description="11月水费"
    )
    assert account_balance(unit.estate, chart.PASS_THROUGH) == D("86.40")
    assert account_balance(unit.estate, chart.REVENUE) == D("0")
    assert books_balance(unit.estate) == (D("86.40"), D("86.40"))


def test_an_ad_hoc_charge_is_idempotent_on_its_key(owner, unit, make_item, finance):
    repair = make_item("REPAIR", "维修费", rate=None, basis="one_off", kind="repair")
    kwargs = dict(
        actor=finance,
        unit=unit,
        fee_item=repair,
        amount="120",
        description="换水龙头",
        idempotency_key="repair-77",
    )
    first = services.charge_adhoc_create(**kwargs)
    again = services.charge_adhoc_create(**kwargs)
    assert first.pk == again.pk and Charge.objects.count() == 1
    assert account_balance(unit.estate, chart.revenue_account("REPAIR")) == D("120.00")


@pytest.mark.parametrize("amount", ["0", "-5", "1.005", "abc"])
def test_a_bad_amount_is_refused_naming_the_field(owner, unit, make_item, finance, amount):
    repair = make_item("REPAIR", "维修费", rate=None, basis="one_off", kind="repair")
    with pytest.raises(DomainError) as err:
        services.charge_adhoc_create(
            actor=finance, unit=unit, fee_item=repair, amount=amount, description="x"
        )
    assert err.value.field == "amount"


def test_a_waiver_needs_a_supervisor_other_than_the_requester(
    owner, property_fee, bill, finance, supervisor, make_staff, books_balance
):
    bill("2026-12")
    charge = Charge.objects.get()
    waiver = services.waiver_request(actor=finance, charge=charge, amount="50.60", reason="漏水")
    # a finance clerk may not approve
    with pytest.raises(PermissionDenied):
        services.waiver_approve(actor=finance, waiver=waiver)
    # a supervisor approves: the charge and the books follow
    services.waiver_approve(actor=supervisor, waiver=waiver)
    charge.refresh_from_db()
    assert charge.outstanding == D("200.00") == services.charge_outstanding_recompute(charge)
    assert account_balance(owner.estate, chart.WAIVERS) == D("50.60")
    assert books_balance(owner.estate) == (D("200.00"), D("200.00"))
    # nobody decides their own request
    own = services.waiver_request(actor=supervisor, charge=charge, amount="1", reason="x")
    with pytest.raises(PermissionDenied):
        services.waiver_approve(actor=supervisor, waiver=own)


def test_a_waiver_cannot_exceed_what_is_owed(owner, property_fee, bill, finance, supervisor):
    bill("2026-12")
    charge = Charge.objects.get()
    with pytest.raises(DomainError) as err:
        services.waiver_request(actor=finance, charge=charge, amount="250.61", reason="x")
    assert err.value.field == "amount"
    waiver = services.waiver_request(actor=finance, charge=charge, amount="250.60", reason="x")
    services.waiver_reject(actor=supervisor, waiver=waiver, note="no evidence")
    assert Waiver.objects.get().status == Waiver.Status.REJECTED
    assert Charge.objects.get().outstanding == D("250.60")


def test_a_full_waiver_marks_the_charge_waived(owner, property_fee, bill, finance, supervisor):
    bill("2026-12")
    charge = Charge.objects.get()
    waiver = services.waiver_request(actor=finance, charge=charge, amount="250.60", reason="x")
    services.waiver_approve(actor=supervisor, waiver=waiver)
    charge.refresh_from_db()
    assert (charge.status, charge.outstanding) == (Charge.Status.WAIVED, D("0"))


def test_credit_and_debit_notes_correct_a_charge(owner, property_fee, bill, finance, books_balance):
    bill("2026-12")
    charge = Charge.objects.get()
    services.charge_credit_note(
        actor=finance, charge=charge, amount="20.60", reason="面积更正", idempotency_key="cn-1"
    )
    services.charge_debit_note(
        actor=finance, charge=charge, amount="5", reason="补收", idempotency_key="dn-1"
    )
    services.charge_credit_note(
        actor=finance, charge=charge, amount="20.60", reason="面积更正", idempotency_key="cn-1"
    )
    charge.refresh_from_db()
    assert charge.outstanding == D("230.00") == services.charge_outstanding_recompute(charge)
    assert books_balance(owner.estate) == (D("235.00"), D("235.00"))


def test_a_paid_deposit_is_refunded_with_approval(
    owner, unit, make_item, finance, supervisor, fake_payments, books_balance
):
    # given a renovation deposit, raised and paid
    deposit_item = make_item(
        "DEPOSIT", "装修押金", rate=None, basis="one_off", kind="deposit", treatment="deposit"
    )
    charge = services.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=deposit_item, amount="2000", description="装修押金"
    )
    assert charge.kind == Charge.Kind.DEPOSIT
    # a deposit not yet paid cannot be refunded
    with pytest.raises(DomainError, match="held"):
        services.deposit_release_request(
            actor=finance, charge=charge, action="refund", amount="2000", reason="验收合格"
        )
    charge = fake_payments(charge, "2000")
    assert charge.status == Charge.Status.PAID
    # when: finance cannot approve, a supervisor can
    release = services.deposit_release_request(
        actor=finance, charge=charge, action="refund", amount="1500", reason="验收合格"
    )
    with pytest.raises(PermissionDenied):
        services.deposit_release_approve(actor=finance, release=release)
    services.deposit_release_approve(actor=supervisor, release=release)
    # then the deposit liability moves to refunds payable
    assert account_balance(unit.estate, chart.DEPOSITS) == D("500.00")
    assert account_balance(unit.estate, chart.REFUNDS_PAYABLE) == D("1500.00")
    assert books_balance(unit.estate) == (D("0"), D("0"))


def test_a_forfeited_deposit_becomes_revenue(
    owner, unit, make_item, finance, supervisor, fake_payments
):
    deposit_item = make_item(
        "DEPOSIT", "装修押金", rate=None, basis="one_off", kind="deposit", treatment="deposit"
    )
    charge = services.charge_adhoc_create(
        actor=finance, unit=unit, fee_item=deposit_item, amount="2000", description="装修押金"
    )
    charge = fake_payments(charge, "2000")
    services.deposit_forfeit(
        requested_by=finance, approved_by=supervisor, charge=charge, amount="300", reason="损坏"
    )
    assert DepositRelease.objects.get().status == DepositRelease.Status.APPROVED
    assert account_balance(unit.estate, chart.DEPOSITS) == D("1700.00")
    assert account_balance(unit.estate, chart.revenue_account("DEPOSIT")) == D("300.00")
    with pytest.raises(DomainError):
        services.deposit_refund(
            requested_by=finance,
            approved_by=supervisor,
            charge=charge,
            amount="1700.01",
            reason="x",
        )
