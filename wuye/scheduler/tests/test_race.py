"""Two schedulers ticking at the same moment (PostgreSQL, each thread its own connection)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from wuye.scheduler.models import JobRun
from wuye.scheduler.services import scheduler_tick

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL (DATABASE_URL)"
    ),
]


def test_racing_schedulers_enqueue_each_slot_once(every_minute, nightly):
    schedulers, minutes = 4, 15
    start = datetime(2026, 3, 10, 17, 25, 1, tzinfo=UTC)  # 01:25 in Shanghai: the night job too
    barrier = threading.Barrier(schedulers)
    errors = []

    def scheduler(n: int) -> None:
        try:
            for minute in range(minutes):
                barrier.wait(timeout=30)  # every scheduler ticks the same instant
                # the minutely job must be due every minute: forget "waiting for a worker"
                JobRun.objects.filter(job_name=every_minute.name).update(
                    state=JobRun.State.SUCCEEDED
                )
                scheduler_tick(
                    now=start + timedelta(minutes=minute, seconds=n),
                    jobs=(every_minute, nightly),
                    beat_name=f"scheduler-{n}",
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in range(schedulers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert JobRun.objects.filter(job_name=every_minute.name).count() == minutes
    # the first tick caught up the night before, and 01:30 fell in the window: once each
    nights = JobRun.objects.filter(job_name=nightly.name).order_by("slot_start")
    assert [run.slot_start.day for run in nights] == [9, 10]
    assert DBTaskResult.objects.count() == minutes + 2
    assert set(JobRun.objects.values_list("task_result_id", flat=True)) == {
        str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)
    }
