"""Amounts with thousands separators on every money page (issue 13 §4), numbers in exports."""

from decimal import Decimal

from django.urls import reverse

from wuye.payments.models import Payment


def test_money_pages_show_thousands_separators(
    client, cashier, finance, owner, unit, shift, property_item, make_charge
):
    # given a large charge, half of it paid at the window
    charge = make_charge(property_item, "2026-01", "12345.60")
    client.force_login(cashier)
    take = reverse("payments:take_payment", args=[unit.pk])
    data = {"token": "t-big", "amount": "6172.80", "method": "cash", "charge": [charge.pk]}
    assert client.post(take, data).status_code == 302
    payment = Payment.objects.get()
    # then every page showing it writes 12,345.60 / 6,172.80, never 12345.60
    pages = {
        "window": client.get(reverse("payments:window"), {"unit": unit.pk}),
        "payment": client.get(reverse("payments:payment_detail", args=[payment.pk])),
        "payments": client.get(reverse("payments:payment_list")),
        "shift": client.get(reverse("payments:shift_detail", args=[shift.pk])),
    }
    client.force_login(finance)
    pages["statement"] = client.get(reverse("billing:statement", args=[owner.pk]))
    pages["charge"] = client.get(reverse("billing:charge_detail", args=[charge.pk]))
    pages["charges"] = client.get(reverse("billing:charge_list"))
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        assert "6,172.80" in body, name
        assert "6172.80" not in body.replace('data-amount="6172.80"', ""), name
    assert "12,345.60" in pages["statement"].content.decode()
    assert "12,345.60" in pages["charge"].content.decode()
    # and the ticking script still reads plain numbers
    assert 'data-amount="6172.80"' in pages["window"].content.decode()
    assert payment.amount == Decimal("6172.80")
