"""On PostgreSQL: an app that fires the same order request several times at once (a flaky
network retrying in parallel) with one Idempotency-Key gets one order, the same to every copy.
The UNIQUE (holder, key) constraint of the idempotency records decides, not a check before
writing."""

import pytest
from django.core.cache import cache
from django.db import connection

from wuye.audit.idempotency import IdempotencyRecord
from wuye.online.models import PaymentOrder
from wuye.testing import race

from .conftest import run_code_jobs
from .test_api_auth import app_for, sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_four_copies_of_one_order_request_at_once_make_one_order(owner, charges, sandbox_accounts):
    cache.clear()
    token = sign_in(owner.mobile)
    body = {"charge_ids": [c.pk for c in charges], "provider": "wechat"}

    def send(i):
        response = app_for(token).post(
            "/api/v1/owner/orders", body, HTTP_IDEMPOTENCY_KEY="same-tap"
        )
        return response.status_code, response.json().get("out_trade_no")

    results = race(4, send)
    assert {status for status, _ in results} == {201}
    assert len({number for _, number in results}) == 1
    assert PaymentOrder.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_six_code_requests_for_one_phone_at_once_send_one_code(owner):
    # given an owner's phone, and six "send me a code" requests at the same moment (a script
    # bombing the number with SMS)
    from wuye.core.errors import DomainError
    from wuye.notifications.models import Message
    from wuye.portal.models import LoginCode
    from wuye.portal.services import code_request

    def send(i):
        try:
            code_request(phone=owner.mobile, ip=f"10.0.0.{i}")
            return "sent"
        except DomainError as exc:
            return exc.code

    # when they race
    results = race(6, send)
    # then one code is made and sent; the others are told to wait a minute
    assert sorted(results) == ["sent"] + ["wait"] * 5
    assert LoginCode.objects.filter(phone=owner.mobile).count() == 1
    assert run_code_jobs(owner.mobile) == 1
    assert Message.objects.filter(purpose="one_time_code", address=owner.mobile).count() == 1
