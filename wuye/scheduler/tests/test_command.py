"""`wuye schedule`: --list, --once for cron, and the loop that stops cleanly on SIGTERM."""

import os
import signal
import threading
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from wuye.scheduler.jobs import declared_jobs
from wuye.scheduler.models import JobRun, SchedulerBeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The wall clock stands at 2026-03-10 10:00:30 in Shanghai (no minute or day turns over)."""
    now = datetime(2026, 3, 10, 10, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    return now


def test_list_prints_each_job_and_when_it_is_next_due(clock):
    out = StringIO()
    call_command("schedule", "--list", stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert len(lines) == len(declared_jobs())
    assert "daily at 01:30" in lines["billing.assess_late_fees"]
    assert "next 2026-03-11 01:30 CST" in lines["billing.assess_late_fees"]
    assert "next 2026-03-10 10:05 CST" in lines["notifications.dispatch_due"]
    assert "next 2026-03-10 10:01 CST" in lines["online.sweep_orders"]
    assert "next 2026-03-10 10:01 CST" in lines["online.post_inbox"]
    assert not JobRun.objects.exists()  # listing enqueues nothing


def test_once_runs_one_tick_and_a_second_once_in_the_same_minute_adds_nothing(clock):
    out = StringIO()
    call_command("schedule", "--once", stdout=out)
    # every declared job is due on the first tick (each app's schedule.py, in app order)
    enqueued = out.getvalue().split("enqueued: ", 1)[1].split(";", 1)[0].split(", ")
    assert enqueued == [job.name for job in declared_jobs()]
    assert enqueued[:3] == [
        "audit.purge_idempotency_records",
        "registry.sweep_import_jobs",
        "billing.assess_late_fees",
    ]
    assert JobRun.objects.count() == DBTaskResult.objects.count() == len(declared_jobs())
    assert SchedulerBeat.objects.count() == 1
    call_command("schedule", "--once", stdout=StringIO())
    # the every-N-minutes jobs wait for a worker; the daily ones are done for the day
    assert JobRun.objects.count() == DBTaskResult.objects.count() == len(declared_jobs())


def test_the_loop_ticks_until_sigterm_then_exits_cleanly(clock):
    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("schedule", "--interval", "0.2", stdout=out)
    finally:
        timer.cancel()
    assert out.getvalue().rstrip().endswith("stopped")
    assert JobRun.objects.count() == len(declared_jobs())
    assert signal.getsignal(signal.SIGTERM) == before  # handler given back
