"""Scheduled jobs: what each app declares, and when a job is due.

Each app lists its recurring work in its own `schedule.py` as `JOBS`, a list of `Job`s (or, for
apps below the scheduler in the import layers, plain dicts with the same fields), the way apps
list their permissions in `roles.py`. The scheduler finds them at run time and never imports a
business app by name.

A job is due once per *slot*: the minute (every N minutes, counted from 00:00 UTC) or the local
day (daily at HH:MM in settings.TIME_ZONE) it falls in. The functions here are pure: no
database, and the clock is an argument.
"""

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks.base import Task

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Job:
    """One recurring piece of work: a django-tasks task enqueued on a schedule.

    Give exactly one of `every_minutes` (1..1440) and `daily_at` ("HH:MM", local time).
    `date_kwarg` names a keyword argument that receives the slot's local date (ISO), so a
    daily job caught up after midnight still works on the day it was due."""

    name: str
    task: str
    every_minutes: int = 0
    daily_at: str = ""
    kwargs: dict = field(default_factory=dict)
    queue: str = ""
    date_kwarg: str = ""
    label: str = ""

    def __post_init__(self):
        if not self.name or not self.task:
            raise ImproperlyConfigured(f"a scheduled job needs a name and a task: {self!r}")
        if bool(self.every_minutes) == bool(self.daily_at):
            raise ImproperlyConfigured(f"job {self.name}: give either every_minutes or daily_at")
        if self.every_minutes and not 1 <= self.every_minutes <= MINUTES_PER_DAY:
            raise ImproperlyConfigured(f"job {self.name}: every_minutes must be 1 to 1440")
        if self.daily_at:
            self.at_time  # noqa: B018  (validates HH:MM)

    @property
    def at_time(self) -> time:
        try:
            hour, minute = (int(part) for part in self.daily_at.split(":"))
            return time(hour, minute)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"job {self.name}: daily_at must be HH:MM, not {self.daily_at!r}"
            ) from exc

    @property
    def schedule_text(self) -> str:
        if self.daily_at:
            return _("daily at %(time)s") % {"time": self.at_time.strftime("%H:%M")}
        if self.every_minutes == 1:
            return _("every minute")
        return _("every %(n)s minutes") % {"n": self.every_minutes}


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _daily_instant(job: Job, day: date) -> datetime:
    # A wall time skipped by a DST change resolves to the instant just after it (zoneinfo's
    # fold=0); a repeated one to its first occurrence. Either way: one instant per local day.
    return datetime.combine(day, job.at_time, tzinfo=local_zone()).astimezone(UTC)


def slot_at(job: Job, now: datetime) -> datetime:
    """The start of the latest slot at or before `now` (UTC): the one a tick at `now` owes."""
    now = now.astimezone(UTC)
    if job.every_minutes:
        minutes = int(now.timestamp() // 60)
        return datetime.fromtimestamp((minutes - minutes % job.every_minutes) * 60, UTC)
    today = now.astimezone(local_zone()).date()
    for day in (today, today - timedelta(days=1), today - timedelta(days=2)):
        instant = _daily_instant(job, day)
        if instant <= now:
            return instant
    raise AssertionError("unreachable: a daily slot within two days")  # pragma: no cover


def next_due(job: Job, now: datetime) -> datetime:
    """The start of the first slot after `now` (UTC)."""
    now = now.astimezone(UTC)
    if job.every_minutes:
        return slot_at(job, now) + timedelta(minutes=job.every_minutes)
    today = now.astimezone(local_zone()).date()
    for offset in range(3):
        instant = _daily_instant(job, today + timedelta(days=offset))
        if instant > now:
            return instant
    raise AssertionError("unreachable: a daily slot within two days")  # pragma: no cover


def task_kwargs(job: Job, slot: datetime) -> dict:
    """The keyword arguments a run for `slot` is enqueued with."""
    kwargs = dict(job.kwargs)
    if job.date_kwarg:
        kwargs[job.date_kwarg] = slot.astimezone(local_zone()).date().isoformat()
    return kwargs


def task_of(job: Job) -> Task:
    """The django-tasks task behind a job, on the job's queue when it names one."""
    found = import_string(job.task)
    if not isinstance(found, Task):
        raise ImproperlyConfigured(f"job {job.name}: {job.task} is not a django-tasks task")
    return found.using(queue_name=job.queue) if job.queue else found


def _jobs_of(module) -> Iterable[Job]:
    for entry in getattr(module, "JOBS", []):
        yield entry if isinstance(entry, Job) else Job(**entry)


@cache
def declared_jobs() -> tuple[Job, ...]:
    """Every installed wuye app's `schedule.JOBS`, in app order."""
    found: dict[str, Job] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("wuye."):
            continue
        module_name = f"{config.name}.schedule"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # a schedule.py that exists but imports something missing
            continue
        for job in _jobs_of(module):
            if job.name in found:
                raise ImproperlyConfigured(f"two scheduled jobs are named {job.name}")
            found[job.name] = job
    return tuple(found.values())


def job_named(name: str, jobs: Iterable[Job] | None = None) -> Job | None:
    return next((j for j in (declared_jobs() if jobs is None else jobs) if j.name == name), None)
