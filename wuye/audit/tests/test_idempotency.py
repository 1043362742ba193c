"""An API write retried with the same Idempotency-Key is done once and answered the same way."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from wuye.audit.idempotency import (
    IdempotencyRecord,
    idempotency_records_purge,
    idempotent,
    idempotent_for,
)
from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record


class RecordSomething(APIView):
    """A stand-in for any write: one audit row per call, refused when `summary` is empty."""

    permission_classes = [IsAuthenticated]
    pause = 0.0

    @idempotent
    def post(self, request):
        summary = request.data.get("summary", "")
        if not summary:
            return Response({"summary": ["this field is required"]}, status=400)
        time.sleep(self.pause)
        event = audit_record(actor=request.user, action=AuditEvent.Action.OTHER, summary=summary)
        return Response({"id": event.pk, "summary": summary}, status=201)


def kiosk_holder(request):
    """A key holder that is not a staff user (as the owners' app holds keys per phone)."""
    kiosk = request.headers.get("X-Kiosk")
    return f"kiosk:{kiosk}" if kiosk else None


class KioskRecordSomething(RecordSomething):
    @idempotent_for(kiosk_holder)
    def post(self, request):
        return RecordSomething.post.__wrapped__(self, request)


def call(user, body, key=None, path="/api/v1/things/", view=RecordSomething, kiosk=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    if kiosk is not None:
        headers["HTTP_X_KIOSK"] = kiosk
    request = APIRequestFactory().post(path, body, format="json", **headers)
    force_authenticate(request, user=user)
    response = view.as_view()(request)
    response.render()
    return response


@pytest.fixture
def clerk(db):
    return get_user_model().objects.create_user(username="clerk", password="x-unused-x")


def written(summary="paid at the window"):
    return AuditEvent.objects.filter(summary=summary).count()


@pytest.mark.django_db
def test_without_a_key_every_request_writes(clerk):
    call(clerk, {"summary": "paid at the window"})
    call(clerk, {"summary": "paid at the window"})
    assert written() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_the_same_key_twice_writes_once_and_returns_the_first_answer(clerk):
    # given a first request with a key
    first = call(clerk, {"summary": "paid at the window"}, key="k-1")
    # when the client retries it
    again = call(clerk, {"summary": "paid at the window"}, key="k-1")
    # then one write, the same status and body, and the replay is marked
    assert written() == 1
    assert (again.status_code, again.data) == (first.status_code, first.data) == (201, first.data)
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")


@pytest.mark.django_db
def test_a_key_reused_for_a_different_request_is_refused(clerk):
    call(clerk, {"summary": "paid at the window"}, key="k-2")
    response = call(clerk, {"summary": "something else"}, key="k-2")
    assert response.status_code == 422
    assert response.data["field"] == "Idempotency-Key"
    assert written("something else") == 0


@pytest.mark.django_db
def test_the_same_key_on_another_path_is_refused(clerk):
    call(clerk, {"summary": "paid at the window"}, key="k-3")
    response = call(clerk, {"summary": "paid at the window"}, key="k-3", path="/api/v1/other/")
    assert response.status_code == 422
    assert written() == 1


@pytest.mark.django_db
def test_a_refused_request_does_not_use_up_its_key(clerk):
    # given a request refused as invalid
    refused = call(clerk, {"summary": ""}, key="k-4")
    assert refused.status_code == 400
    # when the client corrects it and sends it with the same key
    fixed = call(clerk, {"summary": "paid at the window"}, key="k-4")
    # then it is done
    assert fixed.status_code == 201 and written() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_user(clerk):
    other = get_user_model().objects.create_user(username="other", password="x-unused-x")
    call(clerk, {"summary": "paid at the window"}, key="shared")
    call(other, {"summary": "paid at the window"}, key="shared")
    assert written() == 2


@pytest.mark.django_db
def test_keys_of_other_holders_never_meet_the_staff_users_keys(clerk):
    # given a staff user's key
    call(clerk, {"summary": "paid at the window"}, key="shared")
    # when two kiosks send the same key and the same request
    first = call(
        clerk, {"summary": "paid at the window"}, key="shared", view=KioskRecordSomething, kiosk="A"
    )
    call(
        clerk, {"summary": "paid at the window"}, key="shared", view=KioskRecordSomething, kiosk="B"
    )
    # then each holder's request is done once, and a kiosk's retry replays its own answer
    again = call(
        clerk, {"summary": "paid at the window"}, key="shared", view=KioskRecordSomething, kiosk="A"
    )
    assert written() == 3
    assert again["Idempotent-Replayed"] == "true" and again.data == first.data
    assert sorted(IdempotencyRecord.objects.values_list("holder", flat=True)) == [
        "kiosk:A",
        "kiosk:B",
        f"user:{clerk.pk}",
    ]


@pytest.mark.django_db
def test_a_request_without_a_holder_is_not_deduplicated(clerk):
    call(clerk, {"summary": "paid at the window"}, key="k-5", view=KioskRecordSomething)
    call(clerk, {"summary": "paid at the window"}, key="k-5", view=KioskRecordSomething)
    assert written() == 2 and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", " ", "x" * 256, "键"])
def test_a_malformed_key_is_refused_naming_the_header(clerk, key):
    response = call(clerk, {"summary": "paid at the window"}, key=key)
    assert response.status_code == 400 and response.data["field"] == "Idempotency-Key"
    assert written() == 0


@pytest.mark.django_db
def test_old_records_are_purged_and_recent_ones_kept(clerk):
    call(clerk, {"summary": "paid at the window"}, key="old")
    call(clerk, {"summary": "paid at the window"}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=8)
    )
    assert idempotency_records_purge(older_than=timedelta(days=7)) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_one_purge_forgets_old_records_of_every_holder(clerk):
    call(clerk, {"summary": "paid at the window"}, key="old")
    call(clerk, {"summary": "paid at the window"}, key="old", view=KioskRecordSomething, kiosk="A")
    call(clerk, {"summary": "paid at the window"}, key="new", view=KioskRecordSomething, kiosk="A")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=8)
    )
    assert idempotency_records_purge(older_than=timedelta(days=7)) == 2
    assert list(IdempotencyRecord.objects.values_list("holder", "key")) == [("kiosk:A", "new")]


class SlowRecordSomething(RecordSomething):
    pause = 0.3


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_write_exactly_once_on_postgresql(clerk):
    if connection.vendor != "postgresql":
        pytest.skip("racing transactions need PostgreSQL (SQLite serialises writers)")
    # given four clients sending the same request with one key at the same moment
    start = threading.Barrier(4)
    responses = []

    def client():
        try:
            start.wait()
            responses.append(
                call(clerk, {"summary": "raced"}, key="race-1", view=SlowRecordSomething)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one write, and every client got the same answer
    assert written("raced") == 1
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.data["id"] for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 3
