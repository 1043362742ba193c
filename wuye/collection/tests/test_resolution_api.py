"""The resolution API under /api/v1/collection/: plans, disputes, work orders, demands, legal
cases and the limitation list, scoped like the pages."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from .books import charge


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(collector):
    client = APIClient()
    client.force_authenticate(collector)
    return client


def test_a_plan_through_the_api(api, supervisor, case, unit, owner):
    charge(unit, owner, "2026-09", "300.00")
    first = (timezone.localdate() + timedelta(days=7)).isoformat()
    r = api.post(
        "/api/v1/collection/plans/",
        {"case": case.pk, "kind": "equal", "count": 3, "first_due": first},
        format="json",
        HTTP_IDEMPOTENCY_KEY="plan-1",
    )
    assert r.status_code == 201, r.content
    plan = r.json()
    assert plan["total"] == "300.00" and [i["amount"] for i in plan["instalments"]] == [
        "100.00",
        "100.00",
        "100.00",
    ]
    # the same key again creates nothing new
    again = api.post(
        "/api/v1/collection/plans/",
        {"case": case.pk, "kind": "equal", "count": 3, "first_due": first},
        format="json",
        HTTP_IDEMPOTENCY_KEY="plan-1",
    )
    assert again.json()["id"] == plan["id"]
    signed = api.post(
        f"/api/v1/collection/plans/{plan['id']}/sign/",
        {"file": SimpleUploadedFile("s.pdf", b"%PDF signed")},
        format="multipart",
    )
    assert signed.status_code == 200 and signed.json()["signed_sha256"]
    # a collector may not approve; a supervisor may
    assert api.post(f"/api/v1/collection/plans/{plan['id']}/approve/").status_code == 403
    boss = APIClient()
    boss.force_authenticate(supervisor)
    assert boss.post(f"/api/v1/collection/plans/{plan['id']}/approve/").json()["status"] == "active"


def test_disputes_work_orders_demands_legal_and_limitation(api, case, unit, owner, estate):
    charge(unit, owner, "2026-09", "300.00")
    r = api.post(
        "/api/v1/collection/disputes/",
        {"case": case.pk, "category": "repair", "description": "空调外机漏水"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["work_orders"][0]["department"] == "engineering"
    assert len(api.get("/api/v1/collection/work-orders/?department=engineering").json()) == 1
    bad = api.post(
        "/api/v1/collection/disputes/",
        {"case": case.pk, "category": "x", "description": "空调外机漏水"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "category"
    d = api.post(
        "/api/v1/collection/demands/", {"case": case.pk, "delivery": "hand"}, format="json"
    )
    assert d.status_code == 201 and d.json()["total"] == "300.00"
    delivered = api.post(
        f"/api/v1/collection/demands/{d.json()['id']}/deliver/",
        {"proof": SimpleUploadedFile("r.jpg", b"receipt"), "received_by": "张伟"},
        format="multipart",
    )
    assert delivered.json()["status"] == "delivered" and delivered.json()["proof_sha256"]
    legal = api.post(
        "/api/v1/collection/legal-cases/",
        {"case": case.pk, "kind": "litigation", "reason": "长期拒缴且无正当理由"},
        format="json",
    )
    assert legal.status_code == 201 and legal.json()["stages"]["3"] is not None
    rows = api.get(f"/api/v1/collection/limitation/?estate={estate.code}&days=2000").json()
    assert rows[0]["period"] == "2026-09" and rows[0]["restarts"][0]["kind"] == "demand_delivered"


def test_another_estate_is_404(make_staff, other_estate, case, unit, owner):
    charge(unit, owner, "2026-09", "300.00")
    stranger = APIClient()
    stranger.force_authenticate(make_staff("collector", estates=[other_estate]))
    r = stranger.post(
        "/api/v1/collection/demands/", {"case": case.pk, "delivery": "hand"}, format="json"
    )
    assert r.status_code == 404
