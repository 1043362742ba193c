"""Online collection set up on pages: merchant accounts (configured or not, tested against
the sandbox), the fee items each collects, auto-debit mandates signed up with the signed
form, suspended and revoked; by finance (cashiers sign owners up), estate-scoped, audited."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.audit.models import AuditEvent
from wuye.online.models import BankFileLayout, DebitMandate, MerchantAccount, MerchantRoute

pytestmark = pytest.mark.django_db


def _merchants(estate) -> str:
    return f"{reverse('online:merchant_list')}?estate={estate.pk}"


def test_finance_adds_a_sandbox_account_and_its_test_passes(client, finance, estate):
    client.force_login(finance)
    response = client.post(
        reverse("online:merchant_new"),
        {
            "estate": estate.pk,
            "provider": "wechat",
            "code": "hy-sandbox-wechat",
            "name": "华苑微信(测试)",
            "mode": "sandbox",
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    account = MerchantAccount.objects.get(code="hy-sandbox-wechat")
    page = client.get(_merchants(estate)).content.decode()
    assert "华苑微信(测试)" in page and "configured" in page
    # when finance presses "test", the sandbox gateway answers a signed "no such order"
    tested = client.post(reverse("online:merchant_test", args=[account.pk]), follow=True)
    assert "works: the provider answered and its signature was verified" in tested.content.decode()
    event = AuditEvent.objects.get(summary__startswith="merchant account tested")
    assert event.summary.startswith("merchant account tested: ok")


def test_a_live_account_without_credentials_shows_what_is_missing_and_fails_its_test(
    client, finance, estate
):
    account = MerchantAccount.objects.create(
        estate=estate, provider="alipay", code="hy-alipay-2", name="华苑支付宝二号"
    )
    client.force_login(finance)
    page = client.get(_merchants(estate)).content.decode()
    assert "not configured" in page and "no credentials for hy-alipay-2 in WUYE_PAY" in page
    tested = client.post(reverse("online:merchant_test", args=[account.pk]), follow=True)
    assert "does not work: no credentials for hy-alipay-2" in tested.content.decode()


def test_a_configured_live_account_is_shown_configured_without_a_secret(
    client, finance, estate, wechat_keys
):
    MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-wechat", name="华苑微信", is_default=True
    )
    client.force_login(finance)
    page = client.get(_merchants(estate)).content.decode()
    assert "configured" in page and "not configured" not in page
    assert wechat_keys["apiv3_key"] not in page and wechat_keys["mchid"] not in page


def test_a_fee_item_is_routed_to_its_own_account_and_back_to_the_default(
    client, finance, estate, water_item
):
    MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-wechat", name="华苑微信", is_default=True
    )
    utilities = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="hy-water", name="水电代收"
    )
    client.force_login(finance)
    data = {"fee_item": water_item.pk, "provider": "wechat", "account": utilities.pk}
    client.post(reverse("online:route_set"), data)
    assert MerchantRoute.objects.get(fee_item=water_item).account == utilities
    client.post(reverse("online:route_set"), {**data, "account": ""})
    assert not MerchantRoute.objects.exists()


def test_making_another_account_the_default_unmarks_the_old_one(client, finance, estate):
    old = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="a1", name="一号", is_default=True
    )
    new = MerchantAccount.objects.create(estate=estate, provider="wechat", code="a2", name="二号")
    client.force_login(finance)
    client.post(
        reverse("online:merchant_edit", args=[new.pk]),
        {"name": "二号", "is_default": "on", "is_active": "on"},
    )
    old.refresh_from_db(), new.refresh_from_db()
    assert new.is_default and not old.is_default


def test_a_cashier_cannot_touch_merchant_accounts(client, cashier, estate):
    account = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="a1", name="一号", mode="sandbox"
    )
    client.force_login(cashier)
    assert client.get(_merchants(estate)).status_code == 403
    assert client.post(reverse("online:merchant_test", args=[account.pk])).status_code == 403


def test_another_estates_account_is_not_there(client, make_staff, other_estate, estate):
    account = MerchantAccount.objects.create(
        estate=estate, provider="wechat", code="a1", name="一号", mode="sandbox"
    )
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.post(reverse("online:merchant_test", args=[account.pk])).status_code == 404
    assert "一号" not in client.get(reverse("online:merchant_list")).content.decode()


def _scan(name="form.pdf", content=b"%PDF-1.4 signed"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _sign_up(client, estate, owner, **extra):
    data = {
        "estate": estate.pk,
        "payment_ref": owner.payment_ref.lower(),
        "bank": BankFileLayout.objects.order_by("code").first().pk,
        "account_name": "张伟",
        "account_number": "6222 0202 0000 1234 567",
        "limit": "500",
        "signed_on": "2026-03-01",
        "signed_form": _scan(),
        **extra,
    }
    return client.post(reverse("online:mandate_new"), data)


def test_a_cashier_signs_an_owner_up_with_the_signed_form_and_the_account_is_masked(
    client, cashier, estate, owner
):
    client.force_login(cashier)
    response = _sign_up(client, estate, owner)
    mandate = DebitMandate.objects.get(party=owner)
    assert response.status_code == 302
    assert mandate.account_number == "6222020200001234567" and mandate.account_tail == "4567"
    assert str(mandate.limit) == "500.00" and mandate.signed_on == date(2026, 3, 1)
    assert mandate.signed_form.name.endswith(".pdf")
    page = client.get(reverse("online:mandate_detail", args=[mandate.pk])).content.decode()
    assert "****4567" in page and "6222020200001234567" not in page
    listing = client.get(reverse("online:mandate_list")).content.decode()
    assert "****4567" in listing and "62220202" not in listing
    scan = client.get(reverse("online:mandate_form", args=[mandate.pk]))
    assert b"".join(scan.streaming_content) == b"%PDF-1.4 signed"
    assert AuditEvent.objects.filter(subject_type="online.debitmandate").exists()
    # a cashier may not suspend it
    client.post(reverse("online:mandate_detail", args=[mandate.pk]), {"action": "suspend"})
    mandate.refresh_from_db()
    assert mandate.status == "active"


def test_a_scan_that_is_not_a_scan_is_refused_and_nothing_is_signed_up(
    client, cashier, estate, owner
):
    client.force_login(cashier)
    response = _sign_up(client, estate, owner, signed_form=_scan("form.exe", b"MZ"))
    assert "must be a PDF, JPG or PNG scan" in response.content.decode()
    assert not DebitMandate.objects.exists()
    unknown = _sign_up(client, estate, owner, payment_ref="WY00000000")
    assert "No owner of this estate has this reference." in unknown.content.decode()


def test_finance_suspends_reinstates_and_revokes_a_mandate(client, cashier, finance, estate, owner):
    client.force_login(cashier)
    _sign_up(client, estate, owner)
    mandate = DebitMandate.objects.get()
    client.force_login(finance)
    url = reverse("online:mandate_detail", args=[mandate.pk])
    for action, status in (
        ("suspend", "suspended"),
        ("reinstate", "active"),
        ("revoke", "cancelled"),
    ):
        client.post(url, {"action": action})
        mandate.refresh_from_db()
        assert mandate.status == status
    # a revoked mandate is final
    response = client.post(url, {"action": "reinstate"}, follow=True)
    assert "the mandate is Cancelled" in response.content.decode()
    summaries = list(
        AuditEvent.objects.filter(subject_type="online.debitmandate", action="update")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == ["suspend", "reinstate", "cancel"]


def test_another_estates_mandate_is_not_there(
    client, cashier, make_staff, estate, owner, other_estate
):
    client.force_login(cashier)
    _sign_up(client, estate, owner)
    mandate = DebitMandate.objects.get()
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(reverse("online:mandate_detail", args=[mandate.pk])).status_code == 404
    assert client.get(reverse("online:mandate_form", args=[mandate.pk])).status_code == 404


def test_the_api_lists_configured_accounts_tests_one_and_signs_up_a_mandate(
    finance, estate, owner, water_item
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(finance)
    made = api.post(
        "/api/v1/online/merchants/",
        {
            "estate": estate.pk,
            "provider": "alipay",
            "code": "hy-sb-alipay",
            "name": "沙箱支付宝",
            "mode": "sandbox",
            "is_default": True,
        },
        format="json",
    )
    assert made.status_code == 201, made.data
    listed = api.get("/api/v1/online/merchants/", {"estate": estate.pk}).data
    assert [(m["code"], m["configured"]) for m in listed] == [("hy-sb-alipay", True)]
    tested = api.post(f"/api/v1/online/merchants/{made.data['id']}/test/")
    assert tested.data == {
        "ok": True,
        "message": "the provider answered and its signature was verified",
    }
    routed = api.put(
        "/api/v1/online/routes/",
        {"fee_item": water_item.pk, "provider": "alipay", "account": made.data["id"]},
        format="json",
    )
    assert routed.status_code == 204
    signed = api.post(
        "/api/v1/online/mandates/",
        {
            "party": owner.pk,
            "bank": BankFileLayout.objects.order_by("code").first().pk,
            "account_name": "张伟",
            "account_number": "6222020200001234567",
            "signed_on": "2026-03-01",
            "signed_form": _scan(),
        },
        format="multipart",
    )
    assert signed.status_code == 201, signed.data
    assert signed.data["account_number"] == "****4567" and signed.data["signed_form"] is True
    suspended = api.post(f"/api/v1/online/mandates/{signed.data['id']}/suspend/")
    assert suspended.data["status"] == "suspended"
