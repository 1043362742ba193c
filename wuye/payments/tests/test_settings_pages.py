"""The window's money settings on pages: 抹零 and the prepayment cap per estate, pay-ahead
offers (12+1, early bird, N% off); finance sets them, cashiers read them, estate-scoped,
validated, audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from wuye.audit.models import AuditEvent
from wuye.payments.models import CashierSettings, PrepaymentOffer

pytestmark = pytest.mark.django_db


def _settings_url(estate) -> str:
    return f"{reverse('payments:settings')}?estate={estate.pk}"


WINDOW = {
    "round_small_change": "on",
    "round_unit": "yuan",
    "prepayment_cap_months": "24",
    "receipt_paper": "a4",
    "receipt_note": "本收据盖章有效",
}


def test_finance_sets_small_change_rounding_and_the_prepayment_cap(client, finance, estate):
    client.force_login(finance)
    assert client.get(_settings_url(estate)).status_code == 200
    assert client.post(_settings_url(estate), WINDOW).status_code == 302
    saved = CashierSettings.objects.get(estate=estate)
    assert saved.round_small_change and saved.round_unit == "yuan"
    assert saved.prepayment_cap_months == 24 and saved.receipt_paper == "a4"
    event = AuditEvent.objects.get(subject_type="payments.cashiersettings")
    assert event.after["prepayment_cap_months"] == 24 and event.estate_id == estate.pk


def test_a_cap_beyond_ten_years_is_refused(client, finance, estate):
    client.force_login(finance)
    response = client.post(_settings_url(estate), {**WINDOW, "prepayment_cap_months": "240"})
    assert response.status_code == 200 and not CashierSettings.objects.exists()


def test_a_cashier_reads_the_settings_and_cannot_change_them(client, make_staff, estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    page = client.get(_settings_url(estate)).content.decode()
    assert "disabled" in page and 'type="submit"' not in page
    client.post(_settings_url(estate), WINDOW)
    assert not CashierSettings.objects.exists()
    assert client.get(reverse("payments:offer_new")).status_code == 403


def test_finance_makes_a_12_plus_1_offer_and_ends_it(client, finance, estate, property_item):
    client.force_login(finance)
    response = client.post(
        reverse("payments:offer_new"),
        {
            "estate": estate.pk,
            "fee_item": property_item.pk,
            "name": "预交12个月送1个月",
            "min_months": "12",
            "free_months": "1",
            "discount_percent": "0",
            "valid_until": "2027-01-31",
            "none_while_in_arrears": "on",
        },
    )
    assert response.status_code == 302
    offer = PrepaymentOffer.objects.get()
    assert (offer.min_months, offer.free_months, offer.discount_rate) == (12, 1, Decimal("0"))
    assert offer.valid_until.isoformat() == "2027-01-31" and offer.none_while_in_arrears
    assert "预交12个月送1个月" in client.get(_settings_url(estate)).content.decode()
    client.post(reverse("payments:offer_end", args=[offer.pk]))
    offer.refresh_from_db()
    assert not offer.is_active
    assert AuditEvent.objects.filter(subject_type="payments.prepaymentoffer").count() == 2


def test_a_5_percent_offer_is_stored_as_a_share_and_an_empty_offer_is_refused(
    client, finance, estate, property_item
):
    client.force_login(finance)
    base = {
        "estate": estate.pk,
        "fee_item": property_item.pk,
        "name": "预交一年95折",
        "min_months": "12",
        "free_months": "0",
    }
    client.post(reverse("payments:offer_new"), {**base, "discount_percent": "5"})
    assert PrepaymentOffer.objects.get().discount_rate == Decimal("0.0500")
    assert "5% off" in client.get(_settings_url(estate)).content.decode()
    nothing = client.post(reverse("payments:offer_new"), {**base, "discount_percent": "0"})
    assert "an offer gives months free, a discount, or both" in nothing.content.decode()
    assert PrepaymentOffer.objects.count() == 1


def test_another_estates_offer_cannot_be_ended(
    client, make_staff, estate, other_estate, property_item
):
    from wuye.payments.services import prepayment_offer_create

    offer = prepayment_offer_create(
        actor=make_staff("finance", estates=[estate]),
        estate=estate,
        fee_item=property_item,
        name="12+1",
        min_months=12,
        free_months=1,
    )
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.post(reverse("payments:offer_end", args=[offer.pk])).status_code == 404
    offer.refresh_from_db()
    assert offer.is_active


def test_the_api_sets_the_window_and_makes_and_ends_an_offer(
    finance, make_staff, estate, other_estate, property_item
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(finance)
    assert api.get(f"/api/v1/payments/settings/{estate.pk}/").data["round_small_change"] is False
    saved = api.put(
        f"/api/v1/payments/settings/{estate.pk}/",
        {"round_small_change": True, "prepayment_cap_months": 12},
        format="json",
    )
    assert saved.status_code == 200 and saved.data["prepayment_cap_months"] == 12
    assert api.get(f"/api/v1/payments/settings/{other_estate.pk}/").status_code == 404
    made = api.post(
        "/api/v1/payments/offers/",
        {
            "estate": estate.pk,
            "fee_item": property_item.pk,
            "name": "早鸟95折",
            "min_months": 12,
            "discount_rate": "0.05",
            "valid_until": "2026-12-31",
        },
        format="json",
    )
    assert made.status_code == 201, made.data
    ended = api.post(f"/api/v1/payments/offers/{made.data['id']}/end/")
    assert ended.data["is_active"] is False
    api.force_authenticate(make_staff("cashier", estates=[estate]))
    refused = api.put(
        f"/api/v1/payments/settings/{estate.pk}/", {"round_small_change": False}, format="json"
    )
    assert refused.status_code == 403
