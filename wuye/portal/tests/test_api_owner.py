"""The owners' app once signed in: paying charges through the sandbox and getting the receipt,
retries that create one order, refusals that name the charge, other owners' data out of
reach, the statement's running balance, requests that reach staff, and the API schema."""

import subprocess

import pytest
from django.core.cache import cache
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from wuye.audit.idempotency import IdempotencyRecord
from wuye.online.models import PaymentOrder
from wuye.payments.models import Payment
from wuye.portal import services
from wuye.portal.models import OwnerRequest
from wuye.registry.models import Party

from .test_api_auth import app_for, sign_in

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/owner/orders"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def app(owner) -> APIClient:
    return app_for(sign_in(owner.mobile))


@pytest.fixture
def stranger(estate):
    return Party.objects.create(estate=estate, name="李四", mobile="13600000000")


def pay_in_sandbox(order_json: dict) -> None:
    """What the payer does in the sandbox wallet page the order points to."""
    pay = order_json["pay"]
    assert pay["sandbox"] is True and "/pay/sandbox/pay/" in pay["sandbox_pay_url"]
    assert Client().post(pay["sandbox_pay_url"]).status_code in (200, 302)


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout


def test_an_order_for_two_charges_paid_in_the_sandbox_then_the_receipt_pdf(
    app, owner, charges, sandbox_accounts, tmp_path
):
    # given the owner picks both open charges and WeChat Pay
    response = app.post(
        ORDERS, {"charge_ids": [c.pk for c in charges], "provider": "wechat"}, format="json"
    )
    # then an order of 501.20 awaits payment, with what the app needs to pay it
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["amount"] == "501.20" and order["status"] == "created"
    assert sorted(order["charge_ids"]) == sorted(c.pk for c in charges)
    assert order["expires_at"] and order["receipt"] is None
    assert order["pay"]["code_url"] == order["pay"]["sandbox_pay_url"]
    number = order["out_trade_no"]
    assert app.get(f"{ORDERS}/{number}").json()["status"] == "created"
    # when the payer confirms in the sandbox wallet (which notifies us, signed)
    pay_in_sandbox(order)
    # then the order is paid, with its receipt number, and nothing is open any more
    paid = app.get(f"{ORDERS}/{number}").json()
    receipt = Payment.objects.get().receipt
    assert paid["status"] == "paid" and paid["pay"] is None
    assert paid["receipt"]["number"] == receipt.code and paid["receipt"]["amount"] == "501.20"
    assert app.get("/api/v1/owner/charges").json() == []
    listed = app.get("/api/v1/owner/receipts").json()["results"]
    assert [r["number"] for r in listed] == [receipt.code]
    # and the receipt downloads as the PDF the H5 portal serves
    pdf = app.get(paid["receipt"]["pdf"], HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert receipt.code in pdf_text(pdf.content, tmp_path)
    # (a receipt that is not there is a JSON 404 even to an app that asked for a PDF)
    missing = app.get(f"/api/v1/owner/receipts/{receipt.pk + 1}/pdf", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json() == {"detail": "not found"}


def test_alipay_answers_the_gateway_page_to_open(app, charges, sandbox_accounts):
    response = app.post(ORDERS, {"charge_ids": [charges[0].pk], "provider": "alipay"})
    pay = response.json()["pay"]
    assert response.json()["kind"] == "wap"
    assert "/pay/sandbox/alipay/gateway.do?" in pay["pay_url"] == pay["sandbox_pay_url"]


def test_a_retried_post_with_the_same_key_gives_the_same_order(app, charges, sandbox_accounts):
    body = {"charge_ids": [c.pk for c in charges], "provider": "wechat"}
    first = app.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-7f3a")
    # when the first answer is lost, and the order paid meanwhile, the app retries
    pay_in_sandbox(first.json())
    retry = app.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-7f3a")
    # then it gets the first answer again, not a refusal of settled charges, and one order
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json()["out_trade_no"] == first.json()["out_trade_no"]
    assert PaymentOrder.objects.count() == 1
    # without the key, the same request is now refused: the charges are settled
    again = app.post(ORDERS, body, format="json")
    assert again.status_code == 400 and "already settled" in again.json()["detail"]
    # and the same key for another request is refused outright
    other = app.post(
        ORDERS,
        {"charge_ids": [charges[0].pk], "provider": "alipay"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pay-7f3a",
    )
    assert other.status_code == 422
    assert IdempotencyRecord.objects.count() == 1


def test_two_owners_sending_the_same_key_each_get_their_own_order(
    app, owner, charges, sandbox_accounts, stranger, make_charge, property_item
):
    # given another owner whose app happens to pick the same key
    theirs = make_charge(property_item, "2026-05", "10.00", party=stranger)
    other_app = app_for(sign_in(stranger.mobile))
    mine = app.post(
        ORDERS,
        {"charge_ids": [charges[0].pk], "provider": "wechat"},
        HTTP_IDEMPOTENCY_KEY="tap-1",
    )
    # when they pay their own charge with it
    their = other_app.post(
        ORDERS, {"charge_ids": [theirs.pk], "provider": "wechat"}, HTTP_IDEMPOTENCY_KEY="tap-1"
    )
    # then it is theirs: a new order, not my answer replayed nor a 422
    assert (mine.status_code, their.status_code) == (201, 201)
    assert not their.has_header("Idempotent-Replayed")
    assert their.json()["charge_ids"] == [theirs.pk]
    assert PaymentOrder.objects.count() == 2
    # each key held by its phone, beside the staff API's keys
    assert set(IdempotencyRecord.objects.values_list("holder", flat=True)) == {
        f"owner:{owner.mobile}",
        f"owner:{stranger.mobile}",
    }


def test_a_provider_that_cannot_be_reached_is_a_503_to_try_again(app, charges, estate):
    from wuye.online.models import MerchantAccount

    # given a live WeChat Pay account whose credentials are missing
    MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-missing", name="微信", is_default=True
    )
    response = app.post(ORDERS, {"charge_ids": [charges[0].pk], "provider": "wechat"})
    assert response.status_code == 503 and response.json()["code"] == "provider_unavailable"
    # the order it tried is closed with the reason, nothing awaits payment
    order = PaymentOrder.objects.get()
    assert order.status == "closed" and "credentials" in order.start_error


def test_a_refused_order_forgets_its_key(app, charges, sandbox_accounts, stranger):
    bad = app.post(
        ORDERS, {"charge_ids": [999999], "provider": "wechat"}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert bad.status_code == 400 and IdempotencyRecord.objects.count() == 0
    fixed = app.post(
        ORDERS,
        {"charge_ids": [charges[0].pk], "provider": "wechat"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert fixed.status_code == 201


def test_charges_not_mine_not_open_or_not_payable_online_are_refused_by_name(
    app, owner, charges, sandbox_accounts, stranger, make_charge, property_item, estate
):
    from wuye.fees.models import FeeItem

    theirs = make_charge(property_item, "2026-05", "10.00", party=stranger)
    refused = app.post(ORDERS, {"charge_ids": [charges[0].pk, theirs.pk], "provider": "wechat"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"charge {theirs.pk} is not one of yours"
    # a fee the estate collects only at the service centre
    parking = FeeItem.objects.create(
        estate=estate,
        code="PARK",
        name="车位费",
        kind="parking",
        basis="per_unit_month",
        online_payable=False,
    )
    counter_only = make_charge(parking, "2026-03", "300.00")
    refused = app.post(ORDERS, {"charge_ids": [counter_only.pk], "provider": "wechat"})
    assert refused.status_code == 400 and "车位费 cannot be paid online" in refused.json()["detail"]
    # a charge already paid
    type(charges[1]).objects.filter(pk=charges[1].pk).update(status="paid", outstanding=0)
    refused = app.post(ORDERS, {"charge_ids": [charges[1].pk], "provider": "wechat"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"{charges[1].label} is already settled"
    assert PaymentOrder.objects.count() == 0


def test_another_owners_charge_receipt_and_order_are_404(
    app, owner, charges, sandbox_accounts, stranger, make_charge, property_item
):
    # given another owner of the estate with a charge paid through their own order
    theirs = make_charge(property_item, "2026-05", "10.00", party=stranger)
    order = services.owner_order_create(
        parties=[stranger], charge_ids=[theirs.pk], provider="wechat"
    )
    Client().post(order.code_url)
    order.refresh_from_db()
    receipt = order.payment.receipt
    # then none of it is reachable by id, and none of it is listed
    for url in (
        f"/api/v1/owner/charges/{theirs.pk}",
        f"/api/v1/owner/receipts/{receipt.pk}",
        f"/api/v1/owner/receipts/{receipt.pk}/pdf",
        f"{ORDERS}/{order.out_trade_no}",
    ):
        response = app.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "not found"}, url
    assert app.get(f"/api/v1/owner/charges/{charges[0].pk}").status_code == 200
    assert app.get("/api/v1/owner/receipts").json()["results"] == []
    assert app.get(ORDERS).json()["results"] == []
    assert theirs.pk not in {c["id"] for c in app.get("/api/v1/owner/charges").json()}


def test_the_statement_has_a_running_balance(app, charges, sandbox_accounts):
    statement = app.get("/api/v1/owner/statement").json()
    assert statement["open_total"] == "501.20"
    (account,) = statement["accounts"]
    assert [line["balance"] for line in account["lines"]] == ["250.60", "501.20"]
    assert (account["opening"], account["closing"]) == ("0.00", "501.20")
    # once one month is paid, a payment line brings the balance down
    order = app.post(ORDERS, {"charge_ids": [charges[0].pk], "provider": "wechat"}).json()
    pay_in_sandbox(order)
    statement = app.get("/api/v1/owner/statement").json()
    (account,) = statement["accounts"]
    assert account["lines"][-1]["kind"] == "payment"
    assert account["closing"] == statement["open_total"] == "250.60"
    assert [p["amount"] for p in statement["payments"]] == ["250.60"]
    # and from a start date, earlier lines make up the opening balance
    later = app.get("/api/v1/owner/statement", {"start": "2026-02-01"}).json()["accounts"][0]
    assert later["opening"] == "250.60" and later["lines"][0]["text"].endswith("物业服务费")
    assert app.get("/api/v1/owner/statement", {"start": "soon"}).status_code == 400


def test_a_dispute_raised_in_the_app_reaches_staff(app, owner, unit, charges, make_staff, estate):
    # when the owner disputes January's fee from the app
    response = app.post(
        "/api/v1/owner/requests",
        {
            "kind": "dispute",
            "unit": unit.pk,
            "text": "一月电梯停了三周",
            "charge_ids": [charges[0].pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    item = OwnerRequest.objects.get()
    assert (item.party, item.unit, item.kind, item.charge_ids) == (
        owner,
        unit,
        "dispute",
        [charges[0].pk],
    )
    assert item.phone == owner.mobile
    # then customer service sees it in their list, as one raised on the H5 form
    desk = Client()
    desk.force_login(make_staff("customer_service", estates=[estate]))
    assert "一月电梯停了三周" in desk.get("/owner/staff/requests/").content.decode()
    desk.post(f"/owner/staff/requests/{item.pk}/", {"answer": "已减免一半", "close": "1"})
    # and the app shows the answer
    (mine,) = app.get("/api/v1/owner/requests").json()["results"]
    assert (mine["status"], mine["answer"], mine["unit"]["number"]) == (
        "closed",
        "已减免一半",
        unit.number,
    )


def test_a_request_about_someone_elses_unit_is_refused(app, stranger, estate, building):
    from wuye.registry.models import Unit

    other = Unit.objects.create(estate=estate, building=building, number="1-1-302")
    response = app.post(
        "/api/v1/owner/requests",
        {"kind": "hardship", "unit": other.pk, "text": "失业了，交不上"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "unit"
    assert OwnerRequest.objects.count() == 0


def test_an_owner_with_units_in_two_estates_sees_both_and_pays_each_separately(
    app, owner, charges, sandbox_accounts, other_estate, make_charge, property_item
):
    from datetime import date

    from wuye.fees.models import FeeItem
    from wuye.registry.models import Building, Unit, UnitParty

    # given the same phone owns a unit in another estate too
    twin = Party.objects.create(estate=other_estate, name=owner.name, mobile=owner.mobile)
    block = Building.objects.create(estate=other_estate, code="2", name="2栋")
    flat = Unit.objects.create(estate=other_estate, building=block, number="2-1-101")
    UnitParty.objects.create(
        estate=other_estate, unit=flat, party=twin, start_date=date(2025, 1, 1)
    )
    item = FeeItem.objects.create(
        estate=other_estate,
        code="PROPERTY",
        name="物业费",
        kind="property",
        basis="per_area_month",
    )
    there = make_charge(item, "2026-01", "99.00", party=twin)
    # then the app lists both estates' units and charges
    units = {u["number"] for u in app.get("/api/v1/owner/units").json()}
    assert units == {"1-1-301", "2-1-101"}
    assert there.pk in {c["id"] for c in app.get("/api/v1/owner/charges").json()}
    # and one order cannot mix them
    mixed = app.post(ORDERS, {"charge_ids": [charges[0].pk, there.pk], "provider": "wechat"})
    assert mixed.status_code == 400 and "separately" in mixed.json()["detail"]
    assert len(app.get("/api/v1/owner/me").json()["parties"]) == 2


OWNER_PATHS = [
    "/api/v1/owner/auth/code",
    "/api/v1/owner/auth/token",
    "/api/v1/owner/auth/logout",
    "/api/v1/owner/me",
    "/api/v1/owner/units",
    "/api/v1/owner/charges",
    "/api/v1/owner/charges/{id}",
    "/api/v1/owner/statement",
    "/api/v1/owner/receipts",
    "/api/v1/owner/receipts/{id}",
    "/api/v1/owner/receipts/{id}/pdf",
    "/api/v1/owner/orders",
    "/api/v1/owner/orders/{out_trade_no}",
    "/api/v1/owner/requests",
]


def test_the_schema_has_the_owner_endpoints_tagged_owner_and_warns_about_none():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert [m for m in problems if "portal" in m or "Owner" in m] == []
    paths = schema["paths"]
    assert set(OWNER_PATHS) <= set(paths)
    tags = {tuple(op["tags"]) for p in OWNER_PATHS for op in paths[p].values()}
    assert tags == {("owner",)}
    assert "Idempotency-Key" in {
        p["name"] for p in paths["/api/v1/owner/orders"]["post"]["parameters"]
    }
    assert paths["/api/v1/owner/units"]["get"]["security"] == [{"ownerToken": []}]
    assert "ownerToken" in schema["components"]["securitySchemes"]
