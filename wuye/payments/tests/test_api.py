"""The window's REST API: every write takes an Idempotency-Key; a resend posts once."""

from rest_framework.test import APIClient

from wuye.payments.models import CashierShift, Payment


def test_a_payment_sent_twice_with_the_same_key_posts_once(
    cashier, owner, property_item, make_charge
):
    jan = make_charge(property_item, "2026-01", "250.60")
    api = APIClient()
    api.force_authenticate(cashier)
    body = {"party": owner.pk, "amount": "250.60", "channel": "transfer", "external_ref": "B-1"}
    first = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert first.json()["allocations"] == [{"charge": jan.pk, "amount": "250.60", "reverses": None}]
    assert first.json()["receipt"]["code"].startswith("HY-")


def test_bad_input_is_a_clear_400_and_posts_nothing(cashier, owner):
    api = APIClient()
    api.force_authenticate(cashier)
    response = api.post(
        "/api/v1/payments/",
        {"party": owner.pk, "amount": "-3", "channel": "cash"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_shifts_open_and_close_through_the_api(cashier, estate):
    api = APIClient()
    api.force_authenticate(cashier)
    opened = api.post(
        "/api/v1/shifts/",
        {"estate": estate.pk, "float_amount": "50.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="s-1",
    )
    assert opened.status_code == 201, opened.content
    unconfirmed = api.post(
        f"/api/v1/shifts/{opened.json()['id']}/close/",
        {"counted_cash": "55.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="s-2",
    )
    assert unconfirmed.status_code == 400 and unconfirmed.json()["code"] == "variance"
    closed = api.post(
        f"/api/v1/shifts/{opened.json()['id']}/close/",
        {"counted_cash": "55.00", "confirm_variance": True, "note": "多收5元待查"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="s-3",
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["cash_variance"] == "5.00"
    assert CashierShift.objects.get().status == "closed"
