"""The API of the dunning engine: arrears list, policy, runs, cases, tasks and contacts, with
estate scoping (another estate's record is a 404) and permissions."""

from datetime import date

import pytest
from django.test import Client
from rest_framework.test import APIClient

from wuye.collection.models import ArrearsCase, ContactLog
from wuye.collection.services.policies import policy_default

from .books import charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def arrears(estate, unit, owner):
    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    charge(unit, owner, "2026-09", "100.00", due=date(2026, 9, 28))


def test_the_arrears_list_has_ageing_buckets_per_party(api, collector, estate, owner, arrears):
    api.force_authenticate(collector)
    body = api.get("/api/v1/collection/arrears/?as_of=2026-10-10").json()
    [row] = body["results"]
    assert row["party"] == owner.pk and row["total"] == "400.00"
    assert (row["d30"], row["d180"], row["d365"]) == ("100.00", "0.00", "300.00")
    assert row["oldest"] == "2026-01"
    assert body["totals"]["total"] == "400.00" and body["totals"]["parties"] == "1"
    assert (
        api.get("/api/v1/collection/arrears/?as_of=2026-10-10&bucket=d90").json()["results"] == []
    )


def test_run_then_cases_tasks_and_a_contact(
    api, make_staff, collector, estate, owner, arrears, open_policy
):
    finance = make_staff("finance", estates=[estate])
    api.force_authenticate(collector)
    assert api.post("/api/v1/collection/runs/", {"estate": estate.pk}).status_code == 403
    api.force_authenticate(finance)
    made = api.post(
        "/api/v1/collection/runs/", {"estate": estate.pk, "as_of": "2026-02-20"}, format="json"
    )
    assert made.status_code == 201 and made.json()["counts"]["opened"] == 1
    api.force_authenticate(collector)
    [case] = api.get("/api/v1/collection/cases/").json()
    assert case["stage"] == 2 and case["amount"] == "300.00"
    tasks = api.get("/api/v1/collection/tasks/?mine=1").json()
    assert [t["kind"] for t in tasks] == ["call"]
    posted = api.post(
        "/api/v1/collection/contacts/",
        {
            "party": owner.pk,
            "case": case["id"],
            "channel": "call",
            "outcome": "reached",
            "reason": "forgot",
            "said": "提醒缴费",
        },
        format="json",
    )
    assert posted.status_code == 201, posted.content
    assert ContactLog.objects.get().reason == "forgot"
    assert ArrearsCase.objects.get().reason == "forgot"
    one = api.get(f"/api/v1/collection/cases/{case['id']}/").json()
    assert one["charges"]


def test_other_estate_is_a_404_and_policy_edits_are_a_supervisors(
    api, make_staff, other_estate, estate, collector, supervisor, arrears
):
    stranger = make_staff("collector", estates=[other_estate])
    api.force_authenticate(stranger)
    assert api.get(f"/api/v1/collection/policies/{estate.pk}/").status_code == 404
    assert api.get("/api/v1/collection/arrears/?as_of=2026-10-10").json()["results"] == []
    api.force_authenticate(collector)
    policy = api.get(f"/api/v1/collection/policies/{estate.pk}/").json()
    assert [s["number"] for s in policy["stages"]] == [1, 2, 3, 4]
    policy["stages"][0]["min_days"] = 3
    assert (
        api.put(f"/api/v1/collection/policies/{estate.pk}/", policy, format="json").status_code
        == 403
    )
    api.force_authenticate(supervisor)
    changed = api.put(f"/api/v1/collection/policies/{estate.pk}/", policy, format="json")
    assert changed.status_code == 200 and changed.json()["stages"][0]["min_days"] == 3
    policy["stages"][0]["actions"] = [{"kind": "cut_water"}]
    refused = api.put(f"/api/v1/collection/policies/{estate.pk}/", policy, format="json")
    assert refused.status_code == 400


def test_the_auditor_gets_owner_names_masked_as_on_the_pages(
    api, make_staff, collector, estate, owner, arrears
):
    from wuye.collection.services.run import dunning_run

    dunning_run(as_of=date(2026, 2, 20), estate_id=estate.pk)
    case = ArrearsCase.objects.get()
    api.force_authenticate(collector)
    [row] = api.get("/api/v1/collection/arrears/?as_of=2026-10-10").json()["results"]
    assert row["party_name"] == "张伟"
    limitation = f"/api/v1/collection/limitation/?estate={estate.code}&days=3650"
    assert {r["party_name"] for r in api.get(limitation).json()} == {"张伟"}
    auditor = make_staff("auditor", estates=[estate])
    api.force_authenticate(auditor)
    [row] = api.get("/api/v1/collection/arrears/?as_of=2026-10-10").json()["results"]
    assert row["party_name"] == "张*"
    [listed] = api.get("/api/v1/collection/cases/").json()
    assert listed["party_name"] == "张*"
    one = api.get(f"/api/v1/collection/cases/{case.pk}/").json()
    assert one["party_name"] == "张*"
    assert {r["party_name"] for r in api.get(limitation).json()} == {"张*"}
    # and the limitation page the same
    client = Client()
    client.force_login(auditor)
    page = client.get(f"/collection/limitation/?estate={estate.pk}&days=3650").content.decode()
    assert "张伟" not in page and "张*" in page


def test_an_api_contact_is_the_offices_own_and_the_contact_policy_applies(
    api, collector, estate, owner, case
):
    from datetime import time

    from wuye.collection.services.contacts import contact_record
    from wuye.notifications.models import ContactPolicy

    ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(0, 0), weekly_cap=1
    )
    contact_record(actor=collector, party=owner, case=case, channel="call", outcome="reached")
    api.force_authenticate(collector)
    call = {"party": owner.pk, "case": case.pk, "channel": "call", "outcome": "reached"}
    # a collector over the weekly cap cannot pass the call off as the owner's
    refused = api.post("/api/v1/collection/contacts/", {**call, "inbound": True}, format="json")
    assert refused.status_code == 400 and "inbound" in refused.json()
    assert ContactLog.objects.count() == 1
    posted = api.post("/api/v1/collection/contacts/", call, format="json")
    assert posted.status_code == 201 and posted.json()["outcome"] == "suppressed"
    # the owner at the office is inbound by nature: recorded as it happened
    came = api.post("/api/v1/collection/contacts/", {**call, "channel": "in_person"}, format="json")
    assert came.status_code == 201 and came.json()["outcome"] == "reached"
