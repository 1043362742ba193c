"""Background jobs of the registry (django-tasks): checking and writing an uploaded import
file on the "bulk" queue, and the daily tidy-up of import jobs. Thin: the work is in
`wuye.registry.imports.jobs`."""

from django_tasks import task

from wuye.audit import context

from .imports import jobs


def _as_task(service, **kwargs):
    token = context.bind(context.AuditContext(source="task"))
    try:
        return service(**kwargs)
    finally:
        context.reset(token)


@task(queue_name="bulk")
def check_import(job_id: int) -> str:
    """Check an uploaded file; progress and the preview are on the job."""
    return _as_task(jobs.import_job_check, job_id=job_id).state


@task(queue_name="bulk")
def apply_import(job_id: int) -> str:
    """Write a confirmed file, all or nothing; progress and the counts are on the job."""
    return _as_task(jobs.import_job_apply, job_id=job_id).state


@task(queue_name="default")
def sweep_import_jobs() -> dict:
    """Fail stalled jobs, discard week-old unconfirmed ones, delete week-old files."""
    return jobs.import_jobs_sweep()
