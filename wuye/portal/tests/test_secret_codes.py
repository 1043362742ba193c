"""Owners' one-time codes (any message marked secret) are for the owner alone: staff never
read them on the outbox pages or through the API, the log never holds them, and the stored
message keeps them only until it is delivered."""

import logging
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from wuye.core.errors import DomainError
from wuye.notifications.channels.other import DemoBackend
from wuye.notifications.models import MASK, Message
from wuye.notifications.services import (
    message_queue,
    message_resend,
    message_secrets_erase,
    message_send,
)
from wuye.portal import services as portal

from .conftest import run_code_jobs

pytestmark = pytest.mark.django_db
READERS = ["collector", "customer_service", "finance", "supervisor", "auditor"]


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """The code is sent at once (django-tasks' ImmediateBackend) through the demo backend."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def _code_sent(phone: str) -> str:
    text = next(t for address, t in reversed(DemoBackend.phone) if address == phone)
    return re.search(r"\d{6}", text).group(0)


def _staff_views(client, make_staff, estate, message) -> list[str]:
    pages = []
    for role in READERS:
        client.force_login(make_staff(role, estates=[estate]))
        pages.append(client.get(reverse("notifications:outbox")).content.decode())
        detail = client.get(reverse("notifications:message_detail", args=[message.pk]))
        pages.append(detail.content.decode())
        pages.append(client.get("/api/v1/notifications/messages/").content.decode())
        pages.append(client.get(f"/api/v1/notifications/messages/{message.pk}/").content.decode())
    return pages


def test_a_delivered_code_is_erased_and_no_staff_member_reads_it(
    client, make_staff, owner, django_capture_on_commit_callbacks
):
    # given an owner asked for a code and it was delivered (demo backend, tasks at once)
    with django_capture_on_commit_callbacks(execute=True):
        portal.code_request(phone=owner.mobile)
    code = _code_sent(owner.mobile)
    message = Message.objects.get(purpose="one_time_code")
    # then the stored message keeps the code no more
    assert message.status == "delivered" and message.is_secret
    assert code not in message.text and message.params["code"] == MASK and MASK in message.text
    # and no reading role sees it on a page or in the API
    pages = _staff_views(client, make_staff, owner.estate, message)
    assert all(code not in page for page in pages)
    assert MASK in pages[1] and '"secret":true' in pages[2]
    # while the owner still signs in with it
    assert portal.code_verify(phone=owner.mobile, code=code) == [owner.pk]


def test_a_code_waiting_to_go_out_is_masked_for_staff(client, make_staff, owner):
    # given a code still queued (its text must still reach the owner)
    message = message_queue(
        party=owner, purpose="one_time_code", channel="sms", context={"code": "493817"}
    )
    assert "493817" in Message.objects.get(pk=message.pk).text
    # then staff read it masked everywhere
    pages = _staff_views(client, make_staff, owner.estate, message)
    assert all("493817" not in page for page in pages)


def test_any_message_marked_secret_is_masked(owner):
    message = message_queue(
        party=owner,
        purpose="other",
        template_code="one_time_code",
        channel="sms",
        context={"code": "7788"},
        secret=True,
    )
    assert message.secret_keys == ["code"] and "7788" not in message.staff_params.values()


def test_a_code_is_never_resent_by_staff(make_staff, owner):
    portal.code_request(phone=owner.mobile)
    run_code_jobs(owner.mobile)
    message = Message.objects.get(purpose="one_time_code")
    with pytest.raises(DomainError):
        message_resend(actor=make_staff("supervisor", estates=[owner.estate]), message=message)


def test_a_crashing_channel_logs_no_code(monkeypatch, caplog, owner):
    # given a channel adapter that crashes quoting the text it was given
    def crash(self, message):
        raise RuntimeError(f"cannot send {message.text}")

    monkeypatch.setattr(DemoBackend, "send", crash)
    message = message_queue(
        party=owner, purpose="one_time_code", channel="sms", context={"code": "551203"}
    )
    # when the worker sends it
    with caplog.at_level(logging.DEBUG):
        message_send(message_id=message.pk)
    # then neither the log nor the failed message holds the code
    message.refresh_from_db()
    assert message.status == "failed" and "551203" not in message.last_error + message.text
    assert caplog.records and "551203" not in caplog.text


def test_old_codes_that_never_went_out_are_erased(owner):
    message = message_queue(
        party=owner, purpose="one_time_code", channel="sms", context={"code": "640021"}
    )
    assert message_secrets_erase(now=timezone.now() + timedelta(minutes=5)) == 0
    assert message_secrets_erase(now=timezone.now() + timedelta(hours=2)) == 1
    message.refresh_from_db()
    assert "640021" not in message.text and message.params["code"] == MASK
