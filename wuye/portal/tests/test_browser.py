"""On a phone: an owner signs in with the code from the outbox, pays two charges through the
sandbox wallet and downloads the receipt."""

import subprocess

import pytest

from .conftest import sent_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _one_time_code_template():
    """The default templates come with a migration; a flushed test database may lack them."""
    from wuye.notifications.models import MessageTemplate

    MessageTemplate.objects.get_or_create(
        code="one_time_code",
        channel="",
        language="zh-hans",
        version=1,
        defaults={
            "purpose": "one_time_code",
            "body": "您的验证码为{code},10分钟内有效。如非本人操作请忽略。【{estate}】",
        },
    )


def test_an_owner_pays_two_charges_on_the_phone_and_downloads_the_receipt(
    browser, live_server, owner, charges, sandbox_accounts, tmp_path
):
    _one_time_code_template()
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # given the owner asks for a code with their mobile number
        page.goto(f"{live_server.url}/owner/login/")
        page.fill("#id_phone", owner.mobile)
        page.click("#send-code")
        page.wait_for_selector("#id_code")
        # when they type the code the SMS brought (the outbox holds it)
        page.fill("#id_code", sent_code(owner.mobile))
        page.click("#sign-in")
        page.wait_for_url(f"{live_server.url}/owner/")
        # then both open months are there, ticked, totalling 501.20
        picks = page.locator(".charge-pick")
        assert picks.count() == 2
        assert page.locator("#pay-total").inner_text() == "¥501.20"
        # when they pay both with WeChat Pay and confirm in the (sandbox) wallet
        page.click("#pay-now")
        page.wait_for_selector("#open-wallet")
        page.click("#open-wallet")
        page.wait_for_selector("#sandbox-pay")
        assert "501.20" in page.locator("#sandbox-amount").inner_text()
        page.click("#sandbox-pay")
        # then back on the order it is paid and the receipt can be downloaded
        page.wait_for_selector("#receipt-download")
        with page.expect_download() as info:
            page.click("#receipt-download")
        path = tmp_path / "receipt.pdf"
        info.value.save_as(path)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        from wuye.payments.models import Receipt

        receipt = Receipt.objects.get()
        assert receipt.code in text and "501.20" in text
    finally:
        context.close()
