"""Bank auto-debit: the export file in each bank's layout (CSV, fixed width in GBK bytes) and
the return file with mixed results; bank transfers named by the payment reference."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.core.errors import DomainError
from wuye.online import services
from wuye.online.models import BankFileLayout, DebitItem, DebitMandate
from wuye.payments.models import Payment
from wuye.registry.models import Party, UnitParty

pytestmark = pytest.mark.django_db


@pytest.fixture
def csv_bank():
    return BankFileLayout.objects.create(
        code="icbc",
        name="工商银行",
        format="csv",
        encoding="gbk",
        export_columns=[
            {"field": "reference", "title": "流水号"},
            {"field": "account_number", "title": "账号"},
            {"field": "account_name", "title": "户名"},
            {"field": "amount", "title": "金额"},
            {"field": "text:物业费", "title": "摘要"},
        ],
        return_columns={"reference": 0, "amount": 1, "status": 2, "message": 3},
        success_codes=["0000"],
        reason_map={"1001": "insufficient_funds", "1002": "account_closed"},
    )


@pytest.fixture
def fixed_bank():
    return BankFileLayout.objects.create(
        code="ccb",
        name="建设银行",
        format="fixed",
        encoding="gbk",
        header_row=False,
        export_columns=[
            {"field": "reference", "width": 24},
            {"field": "account_number", "width": 19},
            {"field": "account_name", "width": 10},
            {"field": "amount_fen", "width": 12, "align": "right", "pad": "0"},
        ],
        return_columns={"reference": [0, 24], "status": [24, 25], "reason": [25, 29]},
        return_header_rows=0,
        success_codes=["S"],
        reason_map={"E051": "insufficient_funds", "E099": "mandate_revoked"},
    )


@pytest.fixture
def debit_batch(finance, make_charge, property_item, estate):
    """debit_batch(bank, [(party, period, amount), ...], debit_date=...) -> the estate's
    batch for that bank: each party with an open property-fee charge and a mandate in the
    party's own name (19-digit account numbers)."""

    def make(bank, debts, *, debit_date=date(2026, 3, 31)):
        for n, (party, period, amount) in enumerate(debts):
            make_charge(property_item, period, amount, party=party)
            services.mandate_create(
                actor=finance,
                party=party,
                bank=bank,
                account_name=party.name,
                account_number=f"6222020200112{n:06d}",
                signed_on=date(2026, 1, 1),
            )
        return services.debit_batch_create(
            actor=finance, estate=estate, bank=bank, debit_date=debit_date
        )

    return make


@pytest.fixture
def neighbours(unit, estate):
    """Two more owners of the same unit's estate with a mandate each (owners of other units
    in real life; one unit is enough for the books)."""
    parties = []
    for name in ("王芳", "李娜"):
        party = Party.objects.create(estate=estate, name=name, mobile="13900000000")
        UnitParty.objects.create(
            estate=estate, unit=unit, party=party, start_date=date(2025, 6, 1), is_payer=False
        )
        parties.append(party)
    return parties


def test_export_and_mixed_return_file(finance, owner, neighbours, csv_bank, debit_batch):
    # given three owners with mandates and open charges
    owners = [owner, *neighbours]
    periods = ["2026-01", "2026-02", "2026-03"]
    # when finance makes the February batch and exports the bank's file
    batch = debit_batch(
        csv_bank,
        list(zip(owners, periods, ["250.60", "180.00", "99.90"], strict=True)),
        debit_date=date(2026, 3, 31),
    )
    name, content = services.debit_batch_file(actor=finance, batch=batch)
    # then it is GBK CSV with the bank's header and one line per owner
    lines = content.decode("gbk").strip().split("\r\n")
    assert name.endswith(".csv") and lines[0] == "流水号,账号,户名,金额,摘要"
    assert len(lines) == 4 and ",张伟,250.60,物业费" in lines[1]
    # when the bank returns: one debited, one without funds, one closed account
    items = list(batch.items.order_by("seq"))
    returned = (
        "流水号,金额,状态,说明\r\n"
        f"{items[0].reference},250.60,0000,成功\r\n"
        f"{items[1].reference},180.00,1001,余额不足\r\n"
        f"{items[2].reference},99.90,1002,账户已销户\r\n"
    ).encode("gbk")
    counts = services.debit_return_import(actor=finance, batch=batch, content=returned)
    # then the success is a receipted auto-debit payment, the failures keep their reasons, and a
    # closed account suspends its mandate
    assert counts == {"debited": 1, "failed": 2, "unchanged": 0}
    items = list(batch.items.order_by("seq"))
    assert items[0].payment.channel == "autodebit" and items[0].payment.amount == Decimal("250.60")
    assert items[0].payment.receipt is not None
    assert [i.failure for i in items[1:]] == ["insufficient_funds", "account_closed"]
    assert items[2].mandate.status == DebitMandate.Status.SUSPENDED
    assert items[1].mandate.status == DebitMandate.Status.ACTIVE
    assert [i.pk for i in services.debit_failures(neighbours[0].pk)] == [items[1].pk]
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded, batch.failed) == ("returned", 1, 2)
    # and importing the same file again changes nothing
    again = services.debit_return_import(actor=finance, batch=batch, content=returned)
    assert again == {"debited": 0, "failed": 0, "unchanged": 3}
    assert Payment.objects.filter(channel="autodebit").count() == 1


def test_fixed_width_file_counts_gbk_bytes(finance, owner, fixed_bank, debit_batch):
    # given an owner with a Chinese name (two bytes a character in GBK)
    batch = debit_batch(fixed_bank, [(owner, "2026-01", "250.60")], debit_date=date(2026, 3, 5))
    _, content = services.debit_batch_file(actor=finance, batch=batch)
    line = content.split(b"\r\n")[0]
    # then every line is exactly 24 + 19 + 10 + 12 bytes, the amount in fen zero-padded
    assert len(line) == 65
    assert line[43:53].decode("gbk") == "张伟      "
    assert line[53:] == b"000000025060"
    # and a return file line "S" is debited
    item = batch.items.get()
    services.debit_return_import(
        actor=finance, batch=batch, content=item.reference.ljust(24).encode() + b"S    \r\n"
    )
    item.refresh_from_db()
    assert item.status == DebitItem.Status.DEBITED


def test_fixed_width_return_file_with_mixed_reason_codes(
    finance, owner, neighbours, fixed_bank, debit_batch
):
    # given three owners in a fixed-width batch
    owners = [owner, *neighbours]
    batch = debit_batch(
        fixed_bank,
        [
            (party, period, "120.00")
            for party, period in zip(owners, ["2026-01", "2026-02", "2026-03"], strict=True)
        ],
        debit_date=date(2026, 3, 31),
    )
    items = list(batch.items.order_by("seq"))
    # when the bank returns, by byte columns (status at 24, reason at 25-28): no funds, a
    # mandate revoked at the bank, and a code the layout does not know
    lines = [
        items[0].reference.ljust(24) + "FE051",
        items[1].reference.ljust(24) + "FE099",
        items[2].reference.ljust(24) + "FX123",
    ]
    content = ("\r\n".join(lines) + "\r\n").encode("gbk")
    counts = services.debit_return_import(actor=finance, batch=batch, content=content)
    # then each failure keeps the bank's code and the reason the collectors work with; an
    # unknown code is "other"; the revoked mandate is suspended, the one without funds not
    assert counts == {"debited": 0, "failed": 3, "unchanged": 0}
    items = list(batch.items.order_by("seq"))
    assert [(i.failure, i.bank_code) for i in items] == [
        ("insufficient_funds", "E051"),
        ("mandate_revoked", "E099"),
        ("other", "X123"),
    ]
    assert [i.mandate.status for i in items] == [
        DebitMandate.Status.ACTIVE,
        DebitMandate.Status.SUSPENDED,
        DebitMandate.Status.ACTIVE,
    ]
    assert not Payment.objects.filter(channel="autodebit").exists()


def test_a_return_file_naming_an_unknown_line_is_refused_whole(
    finance, owner, csv_bank, debit_batch
):
    batch = debit_batch(csv_bank, [(owner, "2026-01", "250.60")], debit_date=date(2026, 3, 5))
    item = batch.items.get()
    content = f"h\r\n{item.reference},250.60,0000,ok\r\nNOPE,1.00,0000,ok\r\n".encode("gbk")
    with pytest.raises(DomainError, match="line 3: reference 'NOPE' is not in batch"):
        services.debit_return_import(actor=finance, batch=batch, content=content)
    assert Payment.objects.count() == 0
    wrong_amount = f"h\r\n{item.reference},25.06,0000,ok\r\n".encode("gbk")
    with pytest.raises(DomainError, match="line 2: amount 25.06 differs"):
        services.debit_return_import(actor=finance, batch=batch, content=wrong_amount)
    for nonsense in ("sNaN", "Infinity", "二百五"):
        line = f"h\r\n{item.reference},{nonsense},0000,ok\r\n".encode("gbk")
        with pytest.raises(DomainError, match=f"line 2: amount '{nonsense}' is not a number"):
            services.debit_return_import(actor=finance, batch=batch, content=line)
    assert Payment.objects.count() == 0


def test_a_party_in_a_pending_batch_is_not_debited_twice(
    finance, owner, csv_bank, estate, debit_batch
):
    debit_batch(csv_bank, [(owner, "2026-01", "250.60")], debit_date=date(2026, 3, 5))
    second = services.debit_batch_create(
        actor=finance, estate=estate, bank=csv_bank, debit_date=date(2026, 3, 6)
    )
    assert second.count == 0


def test_a_bank_transfer_is_posted_to_the_party_named_by_its_reference(
    finance, owner, charges, estate
):
    # given a transfer whose memo carries the owner's reference, written loosely
    ref = owner.payment_ref
    memo = f"物业费 {ref[:4].lower()} {ref[4:]} 1-1-301"
    # when finance posts it
    payment = services.bank_transfer_post(
        actor=finance, estate=estate, memo=memo, amount="300.00", bank_ref="B20260310001"
    )
    # then it pays the oldest charge first and keeps the rest as prepayment
    assert payment.party == owner and payment.channel == "transfer" and payment.source == "bank"
    assert payment.allocated == Decimal("300.00")
    # and posting the same bank reference again posts nothing new
    again = services.bank_transfer_post(
        actor=finance, estate=estate, memo=memo, amount="300.00", bank_ref="B20260310001"
    )
    assert again.pk == payment.pk


def test_a_transfer_without_a_known_reference_is_refused(finance, owner, estate):
    with pytest.raises(DomainError, match="no payment reference"):
        services.bank_transfer_post(
            actor=finance, estate=estate, memo="张伟 物业费", amount="100", bank_ref="B1"
        )


def test_a_return_file_after_the_sign_off_is_booked_on_the_next_open_day(
    finance, owner, csv_bank, estate, debit_batch
):
    # given a batch, and today's business day already signed off by finance
    from datetime import timedelta

    from django.utils import timezone

    from wuye.payments.models import DayClose

    batch = debit_batch(csv_bank, [(owner, "2026-01", "250.60")], debit_date=date(2026, 3, 5))
    item = batch.items.get()
    today = timezone.localdate()
    DayClose.objects.create(estate=estate, business_date=today, signed_off_by=finance)
    content = f"h\r\n{item.reference},250.60,0000,ok\r\n".encode("gbk")
    # when the bank's return file is imported (the bank has the money: issue 11 §17)
    services.debit_return_import(actor=finance, batch=batch, content=content)
    # then the debit is booked on the next open business day, the bank's date kept
    payment = Payment.objects.get()
    assert payment.business_date == today + timedelta(days=1)
    assert payment.value_date == date(2026, 3, 5)
    item.refresh_from_db()
    assert item.status == DebitItem.Status.DEBITED


def test_a_debit_whose_charges_were_paid_meanwhile_is_recorded_as_prepayment(
    finance, owner, csv_bank, debit_batch, estate, cashier
):
    # given a batch sent to the bank, the charge then paid at the window, and a prepayment cap
    from wuye.payments.services import (
        cashier_settings_update,
        payment_take,
        prepayment_balance,
        shift_open,
    )

    batch = debit_batch(csv_bank, [(owner, "2026-01", "250.60")], debit_date=date(2026, 3, 5))
    item = batch.items.get()
    shift_open(actor=cashier, estate=estate, float_amount="0")
    payment_take(actor=cashier, party=owner, amount="250.60", channel="cash")
    cashier_settings_update(actor=finance, estate=estate, prepayment_cap_months=1)
    # when the bank returns it debited
    content = f"h\r\n{item.reference},250.60,0000,ok\r\n".encode("gbk")
    counts = services.debit_return_import(actor=finance, batch=batch, content=content)
    # then the money the bank took is recorded (as the owner's prepayment), not refused
    assert counts == {"debited": 1, "failed": 0, "unchanged": 0}
    item.refresh_from_db()
    assert item.payment.amount == Decimal("250.60") and item.payment.prepaid == Decimal("250.60")
    assert prepayment_balance(owner.pk) == Decimal("250.60")
