"""The scheduled jobs page: what runs when, what it did last, and (supervisors) "run now"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError

from . import selectors, services
from .jobs import job_named


def _perm(perm: str):
    def wrap(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return wrap


@_perm("scheduler.view_jobrun")
def job_list(request):
    now = timezone.now()
    return render(
        request,
        "scheduler/job_list.html",
        {
            "rows": selectors.job_rows(now=now),
            "runs": selectors.recent_runs(),
            "beat": selectors.last_beat(),
            "alive": selectors.scheduler_alive(now=now),
        },
    )


@require_POST
@_perm("scheduler.run_job")
def job_run(request, name: str):
    try:
        run = services.job_run_now(job_name=name, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        job = job_named(name)
        messages.success(
            request,
            _("%(job)s: queued (%(state)s).")
            % {"job": job.label or job.name, "state": run.get_state_display()},
        )
    return redirect("scheduler:job_list")
