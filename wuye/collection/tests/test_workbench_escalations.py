"""Escalation through the pages: a collector hands a heated case to a supervisor with a note;
the supervisor's queue holds it and the cases the dunning run escalated by themselves; only
supervisors see the queue, and each only his own estates' escalations."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import ArrearsCase, Escalation
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run
from wuye.registry.models import Party, Unit

from .books import charge

pytestmark = pytest.mark.django_db


def test_a_collector_hands_a_heated_case_to_a_supervisor_who_takes_and_resolves_it(
    client, collector, supervisor, case
):
    client.force_login(collector)
    panel = client.get(f"/collection/cases/{case.pk}/contact/").content.decode()
    assert 'data-test="escalate"' in panel
    # an empty note is refused
    response = client.post(f"/collection/cases/{case.pk}/escalate/", {"note": " "})
    assert response.status_code == 400 and not Escalation.objects.exists()
    next_url = f"/collection/cases/{case.pk}/contact/"
    response = client.post(
        f"/collection/cases/{case.pk}/escalate/",
        {"note": "业主情绪激动，要求主管回电", "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == next_url
    escalation = Escalation.objects.get()
    assert (escalation.kind, escalation.raised_by) == ("manual", collector)
    assert "With a supervisor" in client.get(next_url).content.decode()
    # the collector has no queue
    assert client.get("/collection/escalations/").status_code == 403
    assert client.get(f"/collection/escalations/{escalation.pk}/").status_code == 403
    # the supervisor takes it and resolves it
    client.force_login(supervisor)
    queue = client.get("/collection/escalations/").content.decode()
    assert "业主情绪激动" in queue and queue.count('data-test="escalation-row"') == 1
    url = f"/collection/escalations/{escalation.pk}/"
    assert client.post(url, {"action": "take"}).status_code == 302
    escalation.refresh_from_db()
    case.refresh_from_db()
    assert escalation.status == "taken" and case.assignee == supervisor
    response = client.post(url, {"action": "resolve", "resolution": ""})
    assert response.status_code == 400 and "say how it was resolved" in response.content.decode()
    client.post(url, {"action": "resolve", "resolution": "主管回电，业主同意月底缴清"})
    escalation.refresh_from_db()
    assert escalation.status == "resolved"
    queue = client.get("/collection/escalations/").content.decode()
    assert 'data-test="escalation-row"' not in queue
    resolved = client.get("/collection/escalations/?status=resolved").content.decode()
    assert "业主情绪激动" in resolved
    assert "主管回电" in client.get(url).content.decode()


def test_the_queue_shows_automatic_escalations_of_the_supervisors_estates_only(
    client, supervisor, make_staff, estate, unit, owner, other_estate
):
    # given a case in each estate that nobody has worked for longer than the policy allows
    due = date(2026, 1, 28)
    charge(unit, owner, "2026-01", "300.00", due=due)
    other_unit = Unit.objects.create(
        estate=other_estate,
        building=other_estate.buildings.create(code="9", name="9栋"),
        number="9-1-101",
        gross_area="80.00",
    )
    stranger = Party.objects.create(estate=other_estate, name="赵强", mobile="13700000000")
    charge(other_unit, stranger, "2026-01", "300.00", due=due)
    for each in (estate, other_estate):
        policy = policy_default(estate=each)
        policy.escalate_after_days = 10
        policy.save()
    dunning_run(as_of=due + timedelta(days=1))
    dunning_run(as_of=due + timedelta(days=12))
    assert Escalation.objects.filter(kind="automatic").count() == 2
    mine = Escalation.objects.get(case__party=owner)
    theirs = Escalation.objects.get(case__party=stranger)
    # when the supervisor of the first estate opens the queue
    client.force_login(supervisor)
    queue = client.get("/collection/escalations/").content.decode()
    # then only his estate's escalation is there, marked as raised by itself
    assert queue.count('data-test="escalation-row"') == 1
    assert owner.name in queue and stranger.name not in queue
    assert "No progress" in queue
    assert client.get(f"/collection/escalations/{mine.pk}/").status_code == 200
    assert client.get(f"/collection/escalations/{theirs.pk}/").status_code == 404
    # and he may not take the other estate's
    client.post(f"/collection/escalations/{theirs.pk}/", {"action": "take"})
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_the_workbench_links_a_supervisor_to_his_queue(client, supervisor, collector, case):
    Escalation.objects.create(
        estate=case.estate, case=case, kind="automatic", raised_at=timezone.now()
    )
    client.force_login(supervisor)
    page = client.get("/collection/workbench/").content.decode()
    assert "/collection/escalations/" in page
    client.force_login(collector)
    page = client.get("/collection/workbench/").content.decode()
    assert 'href="/collection/escalations/"' not in page


def test_escalating_a_closed_case_is_refused(client, collector, case):
    ArrearsCase.objects.filter(pk=case.pk).update(status="closed")
    client.force_login(collector)
    response = client.post(f"/collection/cases/{case.pk}/escalate/", {"note": "太晚了"})
    assert response.status_code == 400 and not Escalation.objects.exists()
