"""Signing in to the portal with a phone and a one-time code sent through the notifications
outbox: codes expire, attempts and sends are limited, and a number that is not an owner's
gets exactly the same answers."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.core.errors import DomainError
from wuye.notifications.models import Message
from wuye.portal import services
from wuye.portal.models import LoginCode

from .conftest import run_code_jobs, sent_code

pytestmark = pytest.mark.django_db


def test_an_owner_signs_in_with_the_code_sent_by_sms(client, owner):
    # given an owner asks for a code
    response = client.post("/owner/login/", {"phone": owner.mobile, "action": "send"})
    # then, once the worker ran the send job, it is in the outbox as a one-time-code SMS,
    # stored only hashed
    assert response.status_code == 200 and b'id="id_code"' in response.content
    assert run_code_jobs(owner.mobile) == 1
    message = Message.objects.get(purpose="one_time_code")
    assert (message.channel, message.address, message.party_id) == ("sms", owner.mobile, owner.pk)
    code = sent_code(owner.mobile)
    stored = LoginCode.objects.get()
    assert code not in stored.code_hash and stored.code_sealed == ""
    # when the owner types it
    response = client.post(
        "/owner/login/", {"phone": owner.mobile, "code": code, "action": "verify"}
    )
    # then they are signed in (a signed cookie, not a staff session) and see their page
    assert response.status_code == 302 and response["Location"] == "/owner/"
    assert "wuye_owner" in response.cookies and "_auth_user_id" not in client.session
    assert client.get("/owner/").status_code == 200


def test_a_stranger_gets_the_same_answer_and_no_message(client, owner):
    # when someone asks for a code for a number that is no owner's
    known = client.post("/owner/login/", {"phone": owner.mobile, "action": "send"})
    unknown = client.post("/owner/login/", {"phone": "13700000000", "action": "send"})
    # then the page says the same thing, but nothing is sent
    assert unknown.status_code == known.status_code == 200
    assert _page(unknown, "13700000000") == _page(known, owner.mobile)
    assert run_code_jobs("13700000000") == 0
    assert Message.objects.filter(address="13700000000").count() == 0
    # and any code for it fails with the same words as a wrong code
    with pytest.raises(DomainError) as stranger:
        services.code_verify(phone="13700000000", code="123456")
    with pytest.raises(DomainError) as wrong:
        services.code_verify(phone=owner.mobile, code="000000")
    assert stranger.value.message == wrong.value.message


def _page(response, phone: str) -> str:
    """The page with the typed number and the per-request CSRF token and CSP nonce blanked."""
    text = response.content.decode().replace(phone, "X")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'(nonce="|Nonce": ")[^"]+"', r"\1", text)


def test_a_code_expires(owner):
    now = timezone.now()
    services.code_request(phone=owner.mobile, now=now)
    code = sent_code(owner.mobile)
    with pytest.raises(DomainError):
        services.code_verify(phone=owner.mobile, code=code, now=now + timedelta(minutes=11))


def test_a_code_is_used_once(owner):
    services.code_request(phone=owner.mobile)
    code = sent_code(owner.mobile)
    assert services.code_verify(phone=owner.mobile, code=code) == [owner.pk]
    with pytest.raises(DomainError):
        services.code_verify(phone=owner.mobile, code=code)


def test_five_wrong_attempts_burn_the_code(owner):
    services.code_request(phone=owner.mobile)
    code = sent_code(owner.mobile)
    for _ in range(5):
        with pytest.raises(DomainError):
            services.code_verify(phone=owner.mobile, code="999999" if code != "999999" else "1")
    # then even the right code no longer works
    with pytest.raises(DomainError):
        services.code_verify(phone=owner.mobile, code=code)
    assert LoginCode.objects.get().attempts == 5


def test_sends_are_limited_per_number_and_per_address(owner):
    now = timezone.now()
    services.code_request(phone=owner.mobile, now=now)
    with pytest.raises(DomainError, match="wait a minute"):
        services.code_request(phone=owner.mobile, now=now + timedelta(seconds=30))
    for minute in range(1, 5):
        services.code_request(phone=owner.mobile, now=now + timedelta(minutes=minute))
    with pytest.raises(DomainError, match="too many codes for this number"):
        services.code_request(phone=owner.mobile, now=now + timedelta(minutes=6))
    for i in range(20):
        services.code_request(phone=f"1390000{i:04d}", ip="10.0.0.9", now=now)
    with pytest.raises(DomainError, match="too many codes from here"):
        services.code_request(phone="13911112222", ip="10.0.0.9", now=now)


def test_a_malformed_number_is_told_so(client):
    response = client.post("/owner/login/", {"phone": "12345", "action": "send"})
    assert "11-digit" in response.content.decode()
    assert LoginCode.objects.count() == 0


def test_owner_and_staff_sessions_are_apart(owner_client, client, make_staff, estate):
    # an owner's cookie is no staff login
    assert owner_client.get("/owner/staff/requests/").status_code == 302
    # and a staff login is no owner
    staff = make_staff("customer_service", estates=[estate])
    from django.test import Client

    other = Client()
    other.force_login(staff)
    assert other.get("/owner/")["Location"] == "/owner/login/"


def test_a_forged_cookie_is_no_session(client, owner):
    client.cookies["wuye_owner"] = f'{{"phone": "{owner.mobile}"}}'
    assert client.get("/owner/")["Location"] == "/owner/login/"


def test_a_cookie_replayed_after_logout_opens_nothing(client, owner):
    # given a signed-in owner whose cookie was copied
    client.post("/owner/login/", {"phone": owner.mobile, "action": "send"})
    client.post(
        "/owner/login/",
        {"phone": owner.mobile, "code": sent_code(owner.mobile), "action": "verify"},
    )
    copied = client.cookies["wuye_owner"].value
    assert client.get("/owner/").status_code == 200
    # when the owner signs out and the copy is replayed
    client.post("/owner/logout/")
    client.cookies["wuye_owner"] = copied
    # then the session is dead on the server
    assert client.get("/owner/").status_code == 302


def _statements(queries) -> list[str]:
    """The SQL run, with the values (numbers, quoted strings, savepoint names) blanked."""
    shapes = []
    for query in queries:
        sql = re.sub(r"'(?:[^']|'')*'", "?", query["sql"])
        sql = re.sub(r'"s\d+_x\d+"', "?", sql)
        shapes.append(re.sub(r"\b\d+(\.\d+)?\b", "?", sql))
    return shapes


@pytest.mark.parametrize("path", ["/owner/login/", "/api/v1/owner/auth/code"])
def test_a_code_request_does_the_same_work_for_an_owner_and_a_stranger(
    client, owner, path, django_capture_on_commit_callbacks
):
    """Timing: the request must not take longer for an owner's number (sending is the
    worker's part), so it runs the very same statements, known number or not."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the API's per-phone throttles
    runs = {}
    for phone in (owner.mobile, "13700000000"):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            if path == "/owner/login/":
                response = client.post(path, {"phone": phone, "action": "send"})
            else:
                response = client.post(path, {"phone": phone}, content_type="application/json")
        runs[phone] = (response.status_code, _page(response, phone), _statements(queries))
    # then the same answer and the same statements, the send job's enqueueing included
    assert runs[owner.mobile] == runs["13700000000"]
    assert runs[owner.mobile][0] in (200, 202)
    assert any("django_tasks_database" in sql for sql in runs[owner.mobile][2])
    # and only the owner's job sends anything
    assert (run_code_jobs(owner.mobile), run_code_jobs("13700000000")) == (1, 0)
