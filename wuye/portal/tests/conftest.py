"""Portal fixtures: the online tests' owner, charges and sandbox merchant accounts, and a
signed-in owner client."""

import re

import pytest

from wuye.online.tests.conftest import (  # noqa: F401  (fixtures shared with online)
    alipay_keys,
    charges,
    make_charge,
    pay_settings,
    property_item,
    wechat_keys,
)


@pytest.fixture
def sandbox_accounts(estate):
    from wuye.online.models import MerchantAccount

    return [
        MerchantAccount.objects.create(
            estate=estate,
            provider=provider,
            code=f"sb-{provider}",
            name=provider,
            mode="sandbox",
            is_default=True,
        )
        for provider in ("wechat", "alipay")
    ]


def run_code_jobs(phone: str) -> int:
    """Run the send jobs of `phone`'s code requests still waiting (the worker's part: the
    request only enqueues the job, after commit). The number of messages queued."""
    from wuye.portal.models import LoginCode
    from wuye.portal.tasks import send_code

    waiting = LoginCode.objects.filter(phone=phone).exclude(code_sealed="").order_by("pk")
    return sum(send_code.call(pk) for pk in waiting.values_list("pk", flat=True))


def sent_code(phone: str) -> str:
    """The code in the newest one-time-code message to `phone` in the outbox, once the send
    jobs ran."""
    from wuye.notifications.models import Message

    run_code_jobs(phone)
    message = Message.objects.filter(purpose="one_time_code", address=phone).latest("id")
    return re.search(r"\d{6}", message.text).group(0)


@pytest.fixture
def owner_client(client, owner):
    """A test client signed in as the owner (through the real code flow)."""
    client.post("/owner/login/", {"phone": owner.mobile, "action": "send"})
    client.post(
        "/owner/login/",
        {"phone": owner.mobile, "code": sent_code(owner.mobile), "action": "verify"},
    )
    return client
