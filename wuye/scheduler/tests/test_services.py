"""Ticks: each slot enqueued once, a missed day caught up once, runs followed to their end."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from wuye.scheduler.jobs import Job
from wuye.scheduler.models import JobRun, SchedulerBeat
from wuye.scheduler.services import job_runs_refresh, scheduler_tick

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def queued(task_name: str = "echo") -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path=f"wuye.scheduler.tests.tasks.{task_name}").order_by(
            "enqueued_at"
        )
    )


def test_two_ticks_in_the_same_slot_enqueue_once(nightly):
    # given a tick at 01:30:05 that enqueued the night's job
    first = scheduler_tick(now=sh(2026, 3, 10, 1, 30, 5), jobs=(nightly,))
    # when the scheduler ticks again 20 seconds and then 6 hours later
    again = scheduler_tick(now=sh(2026, 3, 10, 1, 30, 25), jobs=(nightly,))
    later = scheduler_tick(now=sh(2026, 3, 10, 7, 30), jobs=(nightly,))
    # then the job is queued once, with the business day as its argument
    assert first.enqueued == ["test.echo_nightly"] and again.enqueued == later.enqueued == []
    (task,) = queued()
    assert task.args_kwargs == {"args": [], "kwargs": {"estate_code": "", "as_of": "2026-03-10"}}
    run = JobRun.objects.get()
    assert (run.slot_start, run.state, run.task_result_id) == (
        sh(2026, 3, 10, 1, 30),
        JobRun.State.ENQUEUED,
        str(task.id),
    )


def test_every_minute_job_runs_in_each_minute_once(every_minute, work_off):
    start = datetime(2026, 3, 10, 9, 0, 10, tzinfo=UTC)
    for seconds in range(0, 180, 20):  # a tick every 20 s for three minutes
        scheduler_tick(now=start + timedelta(seconds=seconds), jobs=(every_minute,))
        work_off()  # a worker keeps up
    assert [r.slot_start.minute for r in JobRun.objects.order_by("slot_start")] == [0, 1, 2]
    assert len(queued()) == 3


def test_a_missed_day_is_caught_up_once_not_for_every_day_missed(nightly):
    # given the job ran on Monday night, then the server was off until Thursday 09:00
    scheduler_tick(now=sh(2026, 3, 9, 1, 31), jobs=(nightly,))
    # when the scheduler comes back, ticking twice
    back = scheduler_tick(now=sh(2026, 3, 12, 9, 0), jobs=(nightly,))
    scheduler_tick(now=sh(2026, 3, 12, 9, 0, 20), jobs=(nightly,))
    # then only Thursday's run is queued (not Tuesday's and Wednesday's too), for Thursday
    assert back.enqueued == ["test.echo_nightly"]
    assert [t.args_kwargs["kwargs"]["as_of"] for t in queued()] == ["2026-03-09", "2026-03-12"]
    # and before 01:30 the last missed slot is the previous day's
    scheduler_tick(now=sh(2026, 3, 15, 0, 45), jobs=(nightly,))
    assert queued()[-1].args_kwargs["kwargs"]["as_of"] == "2026-03-14"


def test_an_every_minute_job_waits_while_its_last_run_waits_for_a_worker(every_minute, work_off):
    # given no worker runs: the first minute's run stays queued
    start = datetime(2026, 3, 10, 9, 0, 5, tzinfo=UTC)
    scheduler_tick(now=start, jobs=(every_minute,))
    # when the scheduler ticks for ten more minutes
    reports = [
        scheduler_tick(now=start + timedelta(minutes=m), jobs=(every_minute,)) for m in range(1, 11)
    ]
    # then nothing piles up; once the worker runs it, the next minute is queued again
    assert len(queued()) == 1 and all(r.waiting == ["test.echo_minutely"] for r in reports)
    work_off()
    assert scheduler_tick(now=start + timedelta(minutes=11), jobs=(every_minute,)).enqueued == [
        "test.echo_minutely"
    ]
    assert JobRun.objects.order_by("slot_start").first().state == JobRun.State.SUCCEEDED


def test_runs_follow_their_task_to_finished_or_failed(work_off):
    ok = Job(name="ok", task="wuye.scheduler.tests.tasks.echo", every_minutes=1)
    bad = Job(name="bad", task="wuye.scheduler.tests.tasks.explode", every_minutes=1)
    now = datetime(2026, 3, 10, 9, 0, 5, tzinfo=UTC)
    scheduler_tick(now=now, jobs=(ok, bad))
    assert set(JobRun.objects.values_list("state", flat=True)) == {JobRun.State.ENQUEUED}
    # when a worker runs them, the next tick (or a refresh) records how they ended
    work_off()
    assert job_runs_refresh() == 2
    assert JobRun.objects.get(job_name="ok").state == JobRun.State.SUCCEEDED
    failed = JobRun.objects.get(job_name="bad")
    assert failed.state == JobRun.State.FAILED and "the job broke" in failed.error
    assert failed.finished_at is not None
    assert job_runs_refresh() == 0  # finished runs are not looked up again


def test_a_task_that_cannot_be_enqueued_is_a_visible_failed_run():
    missing = Job(name="gone", task="wuye.scheduler.tests.tasks.no_such_task", every_minutes=1)
    report = scheduler_tick(now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC), jobs=(missing,))
    run = JobRun.objects.get()
    assert report.enqueued == ["gone"] and run.state == JobRun.State.FAILED
    assert "no_such_task" in run.error and not DBTaskResult.objects.exists()


def test_a_result_deleted_from_the_queue_fails_the_run(every_minute):
    scheduler_tick(now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC), jobs=(every_minute,))
    DBTaskResult.objects.all().delete()
    job_runs_refresh()
    run = JobRun.objects.get()
    assert run.state == JobRun.State.FAILED and "gone from the queue" in run.error


def test_a_queued_task_renamed_since_fails_the_run_instead_of_staying_queued(every_minute):
    scheduler_tick(now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC), jobs=(every_minute,))
    DBTaskResult.objects.update(task_path="wuye.scheduler.tests.tasks.renamed")
    assert job_runs_refresh() == 1
    run = JobRun.objects.get()
    assert run.state == JobRun.State.FAILED and "renamed" in run.error
    assert job_runs_refresh() == 0


def test_thirty_days_of_runs_are_kept_and_the_tick_leaves_a_heartbeat(nightly):
    day = sh(2026, 3, 1, 2, 0)
    for n in range(35):
        scheduler_tick(now=day + timedelta(days=n), jobs=(nightly,), beat_name="host:1")
    slots = list(JobRun.objects.order_by("slot_start").values_list("slot_start", flat=True))
    last = sh(2026, 4, 4, 1, 30)
    assert slots[-1] == last and slots[0] == last - timedelta(days=29)
    beat = SchedulerBeat.objects.get()
    assert (beat.name, beat.started_at, beat.last_tick_at) == ("host:1", day, day + timedelta(34))
