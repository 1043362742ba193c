"""The owners' app signs in with the code sent by SMS and holds a token: what an app developer
checks first. Unknown numbers learn nothing, codes expire, tokens are hashed, slide, lapse and
can be revoked, the sign-in endpoints are throttled, and owner and staff credentials never
open each other's endpoints."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from wuye.notifications.models import Message
from wuye.portal import services
from wuye.portal.models import LoginCode, OwnerToken

from .conftest import run_code_jobs, sent_code

pytestmark = pytest.mark.django_db

CODE = "/api/v1/owner/auth/code"
TOKEN = "/api/v1/owner/auth/token"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # DRF throttles count in the cache, which outlives a test
    yield
    cache.clear()


def sign_in(phone: str) -> str:
    """The app's sign-in: ask for a code, read it from the SMS outbox, trade it for a token."""
    client = APIClient()
    assert client.post(CODE, {"phone": phone}, format="json").status_code == 202
    response = client.post(TOKEN, {"phone": phone, "code": sent_code(phone)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def app_for(token: str) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Owner {token}")
    return client


def test_code_then_token_then_my_units_and_open_charges(owner, unit, charges):
    # given the owner asks for a code in the app
    client = APIClient()
    asked = client.post(CODE, {"phone": owner.mobile}, format="json")
    assert asked.status_code == 202
    # and the worker runs the send job
    assert run_code_jobs(owner.mobile) == 1
    message = Message.objects.get(purpose="one_time_code")
    assert (message.channel, message.address) == ("sms", owner.mobile)
    # when they send it back
    response = client.post(
        TOKEN, {"phone": owner.mobile, "code": sent_code(owner.mobile)}, format="json"
    )
    # then they hold a token that expires in 30 days, kept only as a hash
    assert response.status_code == 200
    body = response.json()
    token = body["token"]
    assert body["token_type"] == "Owner" and len(token) >= 40
    stored = OwnerToken.objects.get()
    assert stored.phone == owner.mobile and token not in stored.key_hash
    assert timedelta(days=29) < stored.expires_at - timezone.now() <= timedelta(days=30)
    # and with it they see their unit and their two open charges
    app = app_for(token)
    units = app.get("/api/v1/owner/units").json()
    assert [(u["number"], u["area"], u["role"], u["estate"]["name"]) for u in units] == [
        (unit.number, "89.50", "owner", "华苑小区")
    ]
    assert units[0]["building"] == "1栋"
    rows = app.get("/api/v1/owner/charges").json()
    assert [(c["id"], c["period"], c["amount"], c["outstanding"]) for c in rows] == [
        (charges[0].pk, "2026-01", "250.60", "250.60"),
        (charges[1].pk, "2026-02", "250.60", "250.60"),
    ]
    first = rows[0]
    assert first["item"] == "物业服务费" and first["unit"]["number"] == unit.number
    assert first["due_date"] == "2026-01-28"
    assert first["overdue"] is (timezone.localdate() > charges[0].due_date)
    assert first["payable_online"] is True and first["is_late_fee"] is False


def test_an_unknown_phone_is_answered_like_a_known_one_and_is_sent_nothing(owner):
    client = APIClient()
    known = client.post(CODE, {"phone": owner.mobile}, format="json")
    stranger = client.post(CODE, {"phone": "13700000000"}, format="json")
    # then the same status and the same words, but only the owner got an SMS
    assert (stranger.status_code, stranger.json()) == (known.status_code, known.json())
    assert (run_code_jobs("13700000000"), run_code_jobs(owner.mobile)) == (0, 1)
    assert Message.objects.filter(address="13700000000").count() == 0
    assert Message.objects.filter(address=owner.mobile).count() == 1
    # and a guess for the stranger fails exactly like a wrong code for the owner
    guess = client.post(TOKEN, {"phone": "13700000000", "code": "123456"}, format="json")
    wrong = client.post(TOKEN, {"phone": owner.mobile, "code": "000000"}, format="json")
    assert (guess.status_code, guess.json()) == (wrong.status_code, wrong.json())
    assert guess.status_code == 400 and guess.json()["field"] == "code"
    assert OwnerToken.objects.count() == 0


def test_a_wrong_code_then_an_expired_one_are_refused(owner):
    client = APIClient()
    client.post(CODE, {"phone": owner.mobile}, format="json")
    code = sent_code(owner.mobile)
    wrong = "000000" if code != "000000" else "111111"
    # a wrong code is refused (and counted), the right one still works afterwards
    refused = client.post(TOKEN, {"phone": owner.mobile, "code": wrong}, format="json")
    assert refused.status_code == 400 and "expired" in refused.json()["detail"]
    assert LoginCode.objects.get().attempts == 1
    # but not once its ten minutes are up
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = client.post(TOKEN, {"phone": owner.mobile, "code": code}, format="json")
    assert (late.status_code, late.json()) == (400, refused.json())
    assert OwnerToken.objects.count() == 0


def test_a_code_buys_one_token_only(owner):
    client = APIClient()
    client.post(CODE, {"phone": owner.mobile}, format="json")
    code = sent_code(owner.mobile)
    first = client.post(TOKEN, {"phone": owner.mobile, "code": code}, format="json")
    again = client.post(TOKEN, {"phone": owner.mobile, "code": code}, format="json")
    assert (first.status_code, again.status_code) == (200, 400)


def test_a_malformed_number_is_told_so(owner):
    response = APIClient().post(CODE, {"phone": "12345"}, format="json")
    assert response.status_code == 400 and "11-digit" in response.json()["detail"]
    assert LoginCode.objects.count() == 0


def test_a_revoked_token_is_refused(owner, charges):
    token = sign_in(owner.mobile)
    app = app_for(token)
    assert app.get("/api/v1/owner/charges").status_code == 200
    # when the app signs out
    assert app.post("/api/v1/owner/auth/logout").status_code == 204
    # then the token opens nothing any more
    refused = app.get("/api/v1/owner/charges")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Owner"
    assert OwnerToken.objects.get().revoked_at is not None


def test_an_expired_token_and_a_garbled_one_are_refused(owner):
    token = sign_in(owner.mobile)
    OwnerToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert app_for(token).get("/api/v1/owner/units").status_code == 401
    assert app_for("not-a-token").get("/api/v1/owner/units").status_code == 401
    assert APIClient().get("/api/v1/owner/units").status_code == 401


def test_an_owner_taken_off_the_register_sees_nothing(owner):
    token = sign_in(owner.mobile)
    # when the owner's number is changed on the register (sold, or a new number)
    type(owner).objects.filter(pk=owner.pk).update(mobile="13900009999")
    # then the token names a phone with no parties: refused
    assert app_for(token).get("/api/v1/owner/units").status_code == 401


def test_a_token_slides_while_used_and_lapses_when_not(owner):
    now = timezone.now()
    services.code_request(phone=owner.mobile, now=now)
    token, key = services.token_create(phone=owner.mobile, code=sent_code(owner.mobile), now=now)
    assert token.expires_at == now + timedelta(days=30)
    # used on day 29, it lives until day 59
    day29 = now + timedelta(days=29)
    assert services.token_authenticate(key=key, now=day29) is not None
    token.refresh_from_db()
    assert token.expires_at == day29 + timedelta(days=30)
    # unused from then for 31 days, it has lapsed
    assert services.token_authenticate(key=key, now=day29 + timedelta(days=31)) is None
    # and however often it is used, it ends 180 days after sign-in
    for day in range(50, 180, 25):
        assert services.token_authenticate(key=key, now=now + timedelta(days=day)) is not None
    token.refresh_from_db()
    assert token.expires_at == now + timedelta(days=180)
    assert services.token_authenticate(key=key, now=now + timedelta(days=180, seconds=1)) is None


def test_a_staff_token_or_session_opens_no_owner_endpoint(owner, make_staff, estate):
    staff = make_staff("supervisor", estates=[estate])
    staff_token = Token.objects.create(user=staff)
    # a staff API token, sent as a staff token or dressed as an owner's
    as_staff = APIClient().get("/api/v1/owner/units", HTTP_AUTHORIZATION=f"Token {staff_token.key}")
    dressed = app_for(staff_token.key).get("/api/v1/owner/units")
    # a staff session
    session = Client()
    session.force_login(staff)
    assert (as_staff.status_code, dressed.status_code) == (401, 401)
    assert session.get("/api/v1/owner/units").status_code == 401


def test_an_owner_token_opens_no_staff_endpoint(owner, charges):
    app = app_for(sign_in(owner.mobile))
    for url in ("/api/v1/units/", "/api/v1/parties/", "/api/v1/online/orders/"):
        assert app.get(url).status_code == 401, url
    # nor sent as a staff token
    key = app._credentials["HTTP_AUTHORIZATION"].split()[1]
    staff_style = APIClient().get("/api/v1/parties/", HTTP_AUTHORIZATION=f"Token {key}")
    assert staff_style.status_code == 401


def test_sign_in_is_throttled_per_phone_and_per_address(owner, settings):
    settings.WUYE_PORTAL = {"api_auth_phone_rate": "3/min", "api_auth_ip_rate": "6/min"}
    client = APIClient()
    # guesses at one phone's code: the fourth within the minute is throttled
    replies = [
        client.post(TOKEN, {"phone": owner.mobile, "code": "000000"}, format="json").status_code
        for _ in range(4)
    ]
    assert replies == [400, 400, 400, 429]
    # other phones from the same address: throttled once the address has sent six
    replies = [
        client.post(CODE, {"phone": f"1370000000{i}"}, format="json").status_code for i in range(3)
    ]
    assert replies == [202, 202, 429]
    # from another address, the same phones are answered again
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other.post(CODE, {"phone": "13700000009"}, format="json").status_code == 202


def test_asking_again_within_the_minute_is_429_for_any_number(owner):
    client = APIClient()
    for phone in (owner.mobile, "13700000000"):
        assert client.post(CODE, {"phone": phone}, format="json").status_code == 202
        again = client.post(CODE, {"phone": phone}, format="json")
        assert again.status_code == 429 and "wait a minute" in again.json()["detail"]


def test_the_daily_purge_task_forgets_tokens_dead_for_a_month(db):
    # given a token that lapsed 31 days ago and one still alive
    from datetime import timedelta

    from django.utils import timezone

    from wuye.portal.models import OwnerToken
    from wuye.portal.tasks import purge_owner_api

    now = timezone.now()
    dead = OwnerToken.objects.create(
        key_hash="a" * 64, phone="13800000001", expires_at=now - timedelta(days=31)
    )
    alive = OwnerToken.objects.create(
        key_hash="b" * 64, phone="13800000002", expires_at=now + timedelta(days=1)
    )
    # and a code whose send job never ran (worker down), expired a minute ago
    unsent = LoginCode.objects.create(
        phone="13800000003",
        code_hash="c" * 64,
        code_sealed="123456",
        expires_at=now - timedelta(minutes=1),
    )
    # when the scheduled job runs
    result = purge_owner_api.call()
    # then only the dead token is gone, and the unsent code is kept no more
    assert not OwnerToken.objects.filter(pk=dead.pk).exists()
    assert OwnerToken.objects.filter(pk=alive.pk).exists()
    assert result == {"tokens": 1, "codes": 1}
    assert LoginCode.objects.get(pk=unsent.pk).code_sealed == ""
