"""Tasks for the scheduler's tests (module-level, as django-tasks requires)."""

from django_tasks import task


@task()
def echo(**kwargs) -> dict:
    return kwargs


@task()
def explode() -> None:
    raise RuntimeError("the job broke")
