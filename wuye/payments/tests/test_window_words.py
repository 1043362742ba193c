"""The window keeps what was typed after a refusal and shows the change due (找零); the unit
page shows the balance with links to the statement and the window; the payment list filters
(issue 13 §4)."""

from decimal import Decimal

from django.urls import reverse

from wuye.payments.models import Payment


def test_a_refused_payment_keeps_what_was_entered(
    client, cashier, owner, unit, shift, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    make_charge(property_item, "2026-02", "250.60")
    client.force_login(cashier)
    url = reverse("payments:take_payment", args=[unit.pk])
    # when more than owed is taken without keeping the rest (refused by the service)
    data = {
        "token": "t-keep",
        "amount": "300.00",
        "method": "pos",
        "external_ref": "POS-778812",
        "payer_name": "李娜",
        "charge": [jan.pk],
    }
    page = client.post(url, data)
    body = page.content.decode()
    # then nothing posts, the reason is shown, and the form is as it was sent
    assert page.status_code == 400 and not Payment.objects.exists()
    assert "take less, or keep the rest as prepayment" in body
    assert 'value="300.00"' in body and 'value="POS-778812"' in body and 'value="李娜"' in body
    assert '<option value="pos" selected>' in body
    assert f'value="{jan.pk}" data-amount="250.60" id="pick-{jan.pk}" checked' in body
    # and the same form sent again with the amount corrected posts once
    data["amount"] = "250.60"
    assert client.post(url, data).status_code == 302
    assert Payment.objects.get().amount == Decimal("250.60")


def test_cash_shows_the_change_due(client, cashier, owner, unit, shift, property_item, make_charge):
    jan = make_charge(property_item, "2026-01", "250.60")
    client.force_login(cashier)
    url = reverse("payments:take_payment", args=[unit.pk])
    page = client.get(reverse("payments:window"), {"unit": unit.pk}).content.decode()
    assert 'id="id_tendered"' in page and 'id="change-due"' in page
    # too little cash is refused, naming both amounts
    data = {"token": "t-cash", "amount": "250.60", "method": "cash", "charge": [jan.pk]}
    short = client.post(url, {**data, "tendered": "200.00"})
    assert short.status_code == 400 and not Payment.objects.exists()
    assert "200.00" in short.content.decode() and "less than the amount" in short.content.decode()
    # 300 handed over for 250.60: change due 49.40, the payment is 250.60
    done = client.post(url, {**data, "tendered": "300.00"}, follow=True)
    assert "Change due: 49.40." in done.content.decode()
    assert Payment.objects.get().amount == Decimal("250.60")


def test_the_unit_page_shows_the_balance_and_links_to_the_statement_and_window(
    client, cashier, make_staff, estate, owner, unit, property_item, make_charge
):
    make_charge(property_item, "2025-01", "1250.60")
    client.force_login(cashier)
    body = client.get(reverse("registry:unit_detail", args=[unit.pk])).content.decode()
    assert 'id="unit-balance"' in body and "1,250.60" in body
    assert reverse("billing:statement", args=[owner.pk]) in body
    assert f"{reverse('payments:window')}?unit={unit.pk}" in body
    # staff who see no money see no balance
    service = make_staff("engineering", estates=[estate])
    client.force_login(service)
    page = client.get(reverse("registry:unit_detail", args=[unit.pk]))
    assert page.status_code != 200 or 'id="unit-balance"' not in page.content.decode()


def test_payment_records_filter_by_unit_owner_method_cashier_and_amount(
    client, make_staff, estate, owner, unit, property_item, make_charge
):
    from wuye.payments.services import payment_take, shift_open
    from wuye.registry.models import Party, Unit, UnitParty

    ann = make_staff("cashier", estates=[estate])
    ann.last_name = "李娜"
    ann.save()
    bob = make_staff("cashier", estates=[estate])
    bob.last_name = "王强"
    bob.save()
    other_unit = Unit.objects.create(estate=estate, building=unit.building, number="1-1-302")
    other = Party.objects.create(estate=estate, name="赵敏", mobile="13900001111")
    UnitParty.objects.create(
        estate=estate, unit=other_unit, party=other, start_date=unit.handover_date, is_payer=True
    )
    for who in (ann, bob):
        shift_open(actor=who, estate=estate, float_amount="0.00")
    a = payment_take(
        actor=ann,
        party=owner,
        unit=unit,
        amount="100.00",
        channel="cash",
        keep_change_as_prepayment=True,
    )
    b = payment_take(
        actor=bob,
        party=other,
        unit=other_unit,
        amount="2500.00",
        channel="pos",
        external_ref="POS-1",
        keep_change_as_prepayment=True,
    )
    client.force_login(ann)
    url = reverse("payments:payment_list")

    def found(**params):
        page = client.get(url, params)
        assert page.status_code == 200
        return {p.pk for p in page.context["page"]}

    assert found() == {a.pk, b.pk}
    assert found(unit="302") == {b.pk}
    assert found(owner="张伟") == {a.pk}
    assert found(owner=other.payment_ref) == {b.pk}
    assert found(method="pos") == {b.pk}
    assert found(cashier=bob.pk) == {b.pk}
    assert found(amount_min="1000") == {b.pk}
    assert found(amount_max="100.00") == {a.pk}
    body = client.get(url).content.decode()
    assert "李娜" in body and "王强" in body and "2,500.00" in body
    # the API takes the same filters, and a bad one is a 400 naming it
    api = client.get("/api/v1/payments/", {"method": "pos", "amount_min": "1000"})
    assert api.status_code == 200 and [p["id"] for p in api.json()["results"]] == [b.pk]
    bad = client.get("/api/v1/payments/", {"amount_min": "lots"})
    assert bad.status_code == 400 and "amount_min" in bad.json()


def test_the_daily_report_names_methods_and_shift_states_in_words(
    client, cashier, owner, unit, shift, property_item, make_charge
):
    from wuye.payments.services import payment_take

    make_charge(property_item, "2026-01", "250.60")
    day = shift.business_date
    payment_take(actor=cashier, party=owner, unit=unit, amount="250.60", channel="cash", today=day)
    client.force_login(cashier)
    page = client.get(
        reverse("payments:day_report"), {"date": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "<td>现金</td>" in body and "<td>cash</td>" not in body
    assert "<td>open</td>" not in body and "<td>未结</td>" in body
