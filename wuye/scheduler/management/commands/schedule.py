"""wuye schedule [--once | --list] [--interval SECONDS]

Runs the scheduled jobs every app declares in its `schedule.py`: by default a loop that ticks
every ~20 seconds until SIGTERM or Ctrl-C; `--once` ticks once (for cron, every minute);
`--list` prints the jobs and when each is next due. Two schedulers may run: each slot is
enqueued once."""

import logging
import os
import signal
import socket
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from wuye.audit import context
from wuye.scheduler.jobs import declared_jobs, next_due
from wuye.scheduler.services import scheduler_tick

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the scheduled jobs when they are due (loop, --once for cron, --list)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one tick, then exit")
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="print the jobs and next due"
        )
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between ticks")

    def handle(self, *args, once: bool, list_jobs: bool, interval: float, **options):
        if list_jobs:
            return self._list()
        token = context.bind(context.AuditContext(source="task"))
        try:
            name = f"{socket.gethostname()}:{os.getpid()}"
            if once:
                self.stdout.write(str(scheduler_tick(beat_name=name)))
            else:
                self._loop(name, interval)
        finally:
            context.reset(token)

    def _list(self) -> None:
        now = timezone.now()
        for job in declared_jobs():
            due = timezone.localtime(next_due(job, now))
            self.stdout.write(
                f"{job.name:<40} {job.schedule_text:<22} next {due:%Y-%m-%d %H:%M %Z}  {job.task}"
            )

    def _loop(self, name: str, interval: float) -> None:
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        self.stdout.write(f"scheduler {name}: ticking every {interval:g} s (SIGTERM/Ctrl-C stops)")
        try:
            while not stop.is_set():
                try:
                    report = scheduler_tick(beat_name=name)
                    if report.enqueued or report.waiting:
                        self.stdout.write(str(report))
                except Exception:  # a lost database connection must not end the scheduler
                    log.exception("scheduler tick failed; retrying in %s s", interval)
                if not connection.in_atomic_block:
                    close_old_connections()  # drop a dead or expired connection between ticks
                stop.wait(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"scheduler {name}: stopped")
