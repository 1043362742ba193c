"""A bill run killed with its worker (issue 12 §8: it stayed `running` until resumed by hand):
the process running it writes a heartbeat; a running run without one for a while has
stopped, its page and the API say so and offer to resume it; a live run is not started
twice."""

import time
from datetime import date, timedelta

import pytest
from django.utils import timezone

from wuye.billing import services
from wuye.billing.models import BillingRun, Charge
from wuye.billing.services.runs import _heartbeat
from wuye.core.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


@pytest.fixture
def killed_run(finance, owner, property_fee):
    """A run whose worker died after it started: running, last heartbeat 5 minutes ago,
    nothing billed."""
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 12, 1)
    )
    long_ago = timezone.now() - timedelta(minutes=5)
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago, attempts=1
    )
    run.refresh_from_db()
    return run


def test_the_page_says_a_killed_run_has_stopped_and_resumes_it(client, finance, killed_run):
    client.force_login(finance)
    page = client.get(f"/billing/runs/{killed_run.pk}/").content.decode()
    assert 'id="run-stalled"' in page and "has stopped" in page
    assert 'id="run-post"' in page and "Resume" in page
    # when finance resumes it
    client.post(f"/billing/runs/{killed_run.pk}/post/")
    # then it bills what was missing and is posted
    killed_run.refresh_from_db()
    assert killed_run.status == BillingRun.Status.POSTED and killed_run.attempts == 2
    assert Charge.objects.filter(run=killed_run).count() == 1
    assert 'id="run-stalled"' not in client.get(f"/billing/runs/{killed_run.pk}/").content.decode()


def test_a_live_run_is_neither_called_stopped_nor_started_twice(client, finance, killed_run):
    BillingRun.objects.filter(pk=killed_run.pk).update(heartbeat_at=timezone.now())
    killed_run.refresh_from_db()
    client.force_login(finance)
    page = client.get(f"/billing/runs/{killed_run.pk}/").content.decode()
    assert 'id="run-stalled"' not in page and 'id="run-post"' not in page
    response = client.post(f"/billing/runs/{killed_run.pk}/post/", follow=True)
    assert "still running" in response.content.decode()
    with pytest.raises(DomainError, match="still running"):
        services.billing_run_post(run=killed_run, actor=finance)
    assert not Charge.objects.exists()


def test_the_api_says_a_run_has_stalled(client, finance, killed_run):
    client.force_login(finance)
    data = client.get(f"/api/v1/billing/runs/{killed_run.pk}/").json()
    assert data["status"] == "running" and data["stalled"] is True


def test_a_run_in_progress_writes_its_heartbeat(monkeypatch, finance, killed_run):
    # the heartbeat of every item billed: each item's progress carries a fresh beat (the
    # run's start writes one too, so the last value alone would not tell)
    from wuye.billing.services import runs

    beats = []
    progress = runs._progress

    def watched(run, **fields):
        if "heartbeat_at" in fields:
            beats.append((fields.get("charges_created"), fields["heartbeat_at"]))
        progress(run, **fields)

    monkeypatch.setattr(runs, "_progress", watched)
    services.billing_run_post(run=killed_run, actor=finance)
    killed_run.refresh_from_db()
    assert beats and beats[-1][0] == 1, beats  # the item that billed the one charge
    assert killed_run.heartbeat_at == beats[-1][1]
    assert timezone.now() - killed_run.heartbeat_at < timedelta(seconds=30)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_an_item_takes_long(monkeypatch, killed_run):
    # while the run is inside one long item, a thread of its own keeps the heartbeat fresh
    monkeypatch.setattr(BillingRun, "HEARTBEAT_SECONDS", 0.05)
    before = killed_run.heartbeat_at
    with _heartbeat(killed_run.pk):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            killed_run.refresh_from_db()
            if killed_run.heartbeat_at > before:
                break
            time.sleep(0.05)
    assert killed_run.heartbeat_at > before
    assert not killed_run.is_stalled()
