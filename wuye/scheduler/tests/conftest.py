"""Scheduler test helpers: jobs on the test tasks, and a worker that runs what is queued."""

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from wuye.scheduler.jobs import Job


@pytest.fixture(autouse=True)
def _fresh_job_cache():
    from wuye.scheduler.jobs import declared_jobs

    declared_jobs.cache_clear()
    yield
    declared_jobs.cache_clear()


@pytest.fixture
def every_minute():
    return Job(name="test.echo_minutely", task="wuye.scheduler.tests.tasks.echo", every_minutes=1)


@pytest.fixture
def nightly():
    return Job(
        name="test.echo_nightly",
        task="wuye.scheduler.tests.tasks.echo",
        daily_at="01:30",
        date_kwarg="as_of",
        kwargs={"estate_code": ""},
    )


@pytest.fixture
def work_off():
    """Run every queued task through django-tasks-db's own worker code, like `db_worker`."""

    def run() -> int:
        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        )
        done = 0
        for result in DBTaskResult.objects.ready().order_by("enqueued_at"):
            result.claim(worker.worker_id)
            worker.run_task(result)
            done += 1
        return done

    return run
