"""When a job is due: slots of every-N-minutes and daily jobs, in the business time zone."""

import inspect
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wuye.scheduler.jobs import Job, declared_jobs, next_due, slot_at, task_kwargs, task_of

SH = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_daily_at_0130_shanghai_before_and_after_the_time_and_across_midnight(settings, nightly):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 01:29 local: today's 01:30 is not due yet, the latest slot is yesterday's
    assert slot_at(nightly, sh(2026, 3, 10, 1, 29)) == sh(2026, 3, 9, 1, 30)
    assert next_due(nightly, sh(2026, 3, 10, 1, 29)) == sh(2026, 3, 10, 1, 30)
    # exactly 01:30 is the slot itself; the next one is tomorrow
    assert slot_at(nightly, sh(2026, 3, 10, 1, 30)) == sh(2026, 3, 10, 1, 30)
    assert next_due(nightly, sh(2026, 3, 10, 1, 30)) == sh(2026, 3, 11, 1, 30)
    # 23:59 and 00:00 local on either side of midnight (15:59 / 16:00 UTC the day before)
    assert slot_at(nightly, sh(2026, 3, 10, 23, 59)) == sh(2026, 3, 10, 1, 30)
    assert slot_at(nightly, sh(2026, 3, 11, 0, 0)) == sh(2026, 3, 10, 1, 30)
    assert next_due(nightly, sh(2026, 3, 11, 0, 0)) == sh(2026, 3, 11, 1, 30)
    # 01:30 in Shanghai is 17:30 UTC of the day before: the UTC date is not the business date
    assert sh(2026, 3, 11, 1, 30).astimezone(UTC) == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert task_kwargs(nightly, slot_at(nightly, sh(2026, 3, 11, 9, 0))) == {
        "estate_code": "",
        "as_of": "2026-03-11",
    }
    # across a month and a year end
    assert slot_at(nightly, sh(2027, 1, 1, 0, 30)) == sh(2026, 12, 31, 1, 30)


def test_shanghai_has_no_dst_so_every_day_is_24_hours_apart(settings, nightly):
    settings.TIME_ZONE = "Asia/Shanghai"
    slots = [slot_at(nightly, sh(2026, m, d, 12, 0)) for m in range(1, 13) for d in (1, 15)]
    for slot in slots:
        assert slot.astimezone(SH).hour == 1 and slot.astimezone(SH).minute == 30
        assert slot.astimezone(UTC).hour == 17  # UTC+8 all year


def test_daily_in_a_dst_zone_is_once_per_local_day(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    job = Job(name="t", task="wuye.scheduler.tests.tasks.echo", daily_at="02:30")
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-29 02:30 does not exist (clocks go 02:00 -> 03:00): due once, at 03:30 CEST
    spring = slot_at(job, datetime(2026, 3, 29, 12, 0, tzinfo=berlin))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert task_kwargs(Job(**{**job.__dict__, "date_kwarg": "d"}), spring) == {"d": "2026-03-29"}
    # 2026-10-25 02:30 happens twice: due once, at the first
    autumn = slot_at(job, datetime(2026, 10, 25, 12, 0, tzinfo=berlin))
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_due(job, autumn) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_every_minute_and_every_five_minutes_slots():
    minutely = Job(name="m", task="x.y", every_minutes=1)
    five = Job(name="f", task="x.y", every_minutes=5)
    t = datetime(2026, 3, 10, 9, 7, 42, 500, tzinfo=UTC)
    assert slot_at(minutely, t) == datetime(2026, 3, 10, 9, 7, tzinfo=UTC)
    assert next_due(minutely, t) == datetime(2026, 3, 10, 9, 8, tzinfo=UTC)
    assert slot_at(five, t) == datetime(2026, 3, 10, 9, 5, tzinfo=UTC)
    assert next_due(five, t) == datetime(2026, 3, 10, 9, 10, tzinfo=UTC)
    # on the minute exactly, that minute is the slot; across midnight the count goes on
    assert slot_at(five, datetime(2026, 3, 10, 9, 10, tzinfo=UTC)).minute == 10
    assert slot_at(five, datetime(2026, 3, 11, 0, 2, tzinfo=UTC)) == datetime(
        2026, 3, 11, tzinfo=UTC
    )
    # in local time too (Shanghai is a whole hour off UTC): :00, :05, :10 ...
    assert slot_at(five, sh(2026, 3, 11, 0, 4)) == sh(2026, 3, 11, 0, 0)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"every_minutes": 5, "daily_at": "01:30"},
        {"every_minutes": 1441},
        {"daily_at": "25:00"},
        {"daily_at": "0130"},
    ],
)
def test_a_job_needs_one_valid_schedule(fields):
    with pytest.raises(ImproperlyConfigured):
        Job(name="bad", task="x.y", **fields)


def test_the_declared_jobs_exist_and_fit_their_tasks_signatures():
    jobs = {job.name: job for job in declared_jobs()}
    assert {name: job.schedule_text for name, job in jobs.items()} == {
        "billing.assess_late_fees": "daily at 01:30",
        "billing.recognise_revenue": "daily at 00:20",
        "notifications.dispatch_due": "every 5 minutes",
        "online.sweep_orders": "every minute",
        "online.post_inbox": "every minute",
        "online.purge_rejected": "daily at 03:20",
        "audit.purge_idempotency_records": "daily at 03:00",
        "portal.purge_owner_api": "daily at 03:10",
        "registry.sweep_import_jobs": "every 60 minutes",
        "collection.dunning_run": "daily at 02:00",
        "collection.outbox_contacts": "every 5 minutes",
        "collection.check_installment_plans": "daily at 01:45",
        "collection.escalate_work_orders": "every 30 minutes",
        "reports.refresh_summaries": "every minute",
    }
    for job in jobs.values():
        task = task_of(job)
        slot = slot_at(job, datetime(2026, 3, 10, tzinfo=UTC))
        inspect.signature(task.func).bind(**task_kwargs(job, slot))  # TypeError if not
        assert task.queue_name == (job.queue or task.queue_name)
        # and a worker serves that queue (a job on a queue no worker reads never runs)
        assert task.queue_name in settings.TASKS["default"]["QUEUES"], (job.name, task.queue_name)
    assert task_kwargs(jobs["billing.assess_late_fees"], sh(2026, 3, 10, 1, 30)) == {
        "as_of": "2026-03-10"
    }
