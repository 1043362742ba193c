"""The scheduler's writes: a tick (enqueue what is due), "run now", following task results,
and forgetting old rows.

Exactly once per slot: a `JobRun` row unique on (job, slot, trigger) is inserted before the task
is enqueued, in one transaction. With the database task backend the task row commits or rolls
back with it; a second scheduler's insert waits for the first (PostgreSQL) or for the write lock
(SQLite, BEGIN IMMEDIATE) and then fails, so it enqueues nothing.

No flood after a downtime: a tick only looks at each job's latest slot (at or before now), so
a scheduler back after three days runs a daily job once, for today's (or yesterday's) slot, and
an every-minute job once. An every-N-minutes job is also not queued again while its previous
run still waits for a worker, so a stopped worker does not find hundreds of sweeps queued.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import TaskResultStatus, task_backends
from django_tasks.exceptions import TaskResultDoesNotExist

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError

from .jobs import Job, declared_jobs, job_named, slot_at, task_kwargs, task_of
from .models import JobRun, SchedulerBeat

log = logging.getLogger(__name__)

RUN_RETENTION = timedelta(days=30)
BEAT_RETENTION = timedelta(days=1)
REFRESH_LIMIT = 200
_STATES = {
    TaskResultStatus.READY: JobRun.State.ENQUEUED,
    TaskResultStatus.RUNNING: JobRun.State.RUNNING,
    TaskResultStatus.SUCCESSFUL: JobRun.State.SUCCEEDED,
    TaskResultStatus.FAILED: JobRun.State.FAILED,
}


@dataclass
class TickReport:
    at: datetime
    enqueued: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # previous run not picked up yet
    updated: int = 0  # runs whose task state changed

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} enqueued: {', '.join(self.enqueued) or '-'}; "
            f"waiting for a worker: {', '.join(self.waiting) or '-'}; runs updated: {self.updated}"
        )


def scheduler_tick(
    *, now: datetime | None = None, jobs: tuple[Job, ...] | None = None, beat_name: str = ""
) -> TickReport:
    """Follow the queued runs, enqueue each job whose latest slot has no run, forget old rows."""
    now = now or timezone.now()
    jobs = declared_jobs() if jobs is None else jobs
    report = TickReport(at=now)
    if beat_name:
        scheduler_beat(name=beat_name, now=now)
    report.updated = job_runs_refresh()
    for job in jobs:
        slot = slot_at(job, now)
        last = (
            JobRun.objects.filter(job_name=job.name, trigger=JobRun.Trigger.SCHEDULE)
            .order_by("-slot_start")
            .first()
        )
        if last is not None and last.slot_start >= slot:
            continue  # done (the unique constraint decides races; this just saves the INSERT)
        if job.every_minutes and last is not None and _waits_for_worker(last):
            report.waiting.append(job.name)
            continue
        if job_enqueue(job=job, slot=slot, trigger=JobRun.Trigger.SCHEDULE) is not None:
            report.enqueued.append(job.name)
    job_runs_purge(now=now)
    return report


def _waits_for_worker(run: JobRun) -> bool:
    # Only trust "still queued" when the backend can tell us otherwise later.
    return (
        run.state == JobRun.State.ENQUEUED
        and bool(run.task_result_id)
        and _backend(run.backend).supports_get_result
    )


def job_enqueue(*, job: Job, slot: datetime, trigger: str, actor=None) -> JobRun | None:
    """Claim (job, slot, trigger) and enqueue the task; None when another tick claimed it.

    A task that cannot be enqueued (unknown path, backend down) leaves a failed run with the
    error, visible on the jobs page, instead of vanishing; the next slot tries again."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = JobRun.objects.create(
                    job_name=job.name, slot_start=slot, trigger=trigger, requested_by=actor
                )
        except IntegrityError:
            return None
        try:
            with transaction.atomic():
                result = task_of(job).enqueue(**task_kwargs(job, slot))
        except Exception as exc:
            log.exception("scheduled job %s could not be enqueued", job.name)
            run.state = JobRun.State.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            run.finished_at = timezone.now()
        else:
            run.task_result_id = str(result.id)
            run.backend = result.backend
            _apply_result(run, result)
        run.save()
        return run


def job_run_now(*, job_name: str, actor, now: datetime | None = None) -> JobRun:
    """Enqueue a job by hand (a supervisor's "run now"), once per job and minute, audited."""
    job = job_named(job_name)
    if job is None:
        raise DomainError(_("There is no scheduled job named %(name)s.") % {"name": job_name})
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    with transaction.atomic():
        run = job_enqueue(job=job, slot=minute, trigger=JobRun.Trigger.MANUAL, actor=actor)
        if run is None:
            raise DomainError(
                _("%(job)s was already started by hand this minute; see its state below.")
                % {"job": job.label or job.name}
            )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            subject=run,
            summary=Summary(gettext_noop("run now: %(job)s"), job=job.name),
            after={"state": run.state, "task_result_id": run.task_result_id},
        )
    return run


def job_runs_refresh(*, limit: int = REFRESH_LIMIT) -> int:
    """Copy the task backend's status (queued, running, finished, failed) onto pending runs."""
    changed = 0
    pending = JobRun.objects.filter(state__in=JobRun.PENDING).exclude(task_result_id="")
    for run in pending.order_by("-slot_start")[:limit]:
        backend = _backend(run.backend)
        if backend is None or not backend.supports_get_result:
            continue
        before = (run.state, run.finished_at, run.error)
        try:
            _apply_result(run, backend.get_result(run.task_result_id))
        except TaskResultDoesNotExist:
            run.state = JobRun.State.FAILED
            run.error = _("The task's result is gone from the queue (deleted).")
        except DatabaseError:
            raise  # the database is away: this tick fails, the next one retries
        except Exception as exc:  # e.g. the task was renamed: it cannot run, say so once
            log.exception("cannot read the task result of job run %s", run.pk)
            run.state = JobRun.State.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
        if (run.state, run.finished_at, run.error) != before:
            run.save(update_fields=["state", "finished_at", "error"])
            changed += 1
    return changed


def _backend(alias: str):
    try:
        return task_backends[alias]
    except Exception:  # a backend alias removed from settings since the run
        return None


def _apply_result(run: JobRun, result) -> None:
    run.state = _STATES.get(result.status, run.state)
    run.finished_at = result.finished_at
    if result.status == TaskResultStatus.FAILED and result.errors:
        last = result.errors[-1]
        run.error = f"{last.exception_class_path}\n{last.traceback}"[-4000:]


def job_runs_purge(*, now: datetime | None = None) -> int:
    """Keep 30 days of runs (and a day of heartbeats of stopped schedulers)."""
    now = now or timezone.now()
    deleted, _counts = JobRun.objects.filter(slot_start__lt=now - RUN_RETENTION).delete()
    SchedulerBeat.objects.filter(last_tick_at__lt=now - BEAT_RETENTION).delete()
    return deleted


def scheduler_beat(*, name: str, now: datetime) -> None:
    """Record that scheduler `name` ticked at `now`."""
    if SchedulerBeat.objects.filter(name=name).update(last_tick_at=now):
        return
    try:
        with transaction.atomic():
            SchedulerBeat.objects.create(name=name, started_at=now, last_tick_at=now)
    except IntegrityError:
        SchedulerBeat.objects.filter(name=name).update(last_tick_at=now)
