"""What the jobs page reads: each job with its last run and next due time, recent runs, and
whether a scheduler is ticking at all."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .jobs import Job, declared_jobs, next_due, slot_at
from .models import JobRun, SchedulerBeat

# A scheduler ticks every ~20 s, cron every minute; two quiet minutes mean none is running.
ALIVE_WITHIN = timedelta(minutes=2)
# A run still queued after this long means no worker takes that queue.
WORKER_SLOW_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class JobRow:
    job: Job
    last_run: JobRun | None
    next_due: datetime
    overdue_since: datetime | None  # the latest slot, when no tick has enqueued it yet
    waits_for_worker: bool  # the last run has been queued for long without starting


def job_rows(*, now: datetime | None = None, jobs: tuple[Job, ...] | None = None) -> list[JobRow]:
    now = now or timezone.now()
    rows = []
    for job in declared_jobs() if jobs is None else jobs:
        runs = JobRun.objects.filter(job_name=job.name)
        last_run = runs.order_by("-enqueued_at", "-id").first()
        slot = slot_at(job, now)
        claimed = runs.filter(trigger=JobRun.Trigger.SCHEDULE, slot_start__gte=slot).exists()
        # Every-N-minutes jobs wait (on purpose) while their previous run is still queued.
        overdue = not claimed and now - slot > ALIVE_WITHIN and not job.every_minutes
        rows.append(
            JobRow(
                job=job,
                last_run=last_run,
                next_due=next_due(job, now),
                overdue_since=slot if overdue else None,
                waits_for_worker=bool(
                    last_run
                    and last_run.state == JobRun.State.ENQUEUED
                    and now - last_run.enqueued_at > WORKER_SLOW_AFTER
                ),
            )
        )
    return rows


def recent_runs(*, limit: int = 50) -> QuerySet[JobRun]:
    return JobRun.objects.select_related("requested_by").order_by("-enqueued_at", "-id")[:limit]


def last_beat() -> SchedulerBeat | None:
    return SchedulerBeat.objects.order_by("-last_tick_at").first()


def scheduler_alive(*, now: datetime | None = None) -> bool:
    beat = last_beat()
    return beat is not None and (now or timezone.now()) - beat.last_tick_at <= ALIVE_WITHIN
