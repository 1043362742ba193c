"""Import and export pages: upload -> an import job, checked in the background with a
progress bar (or at once for a small file) -> preview (counts, first rows, every error) ->
confirm -> written, all or nothing; and downloads of buildings, units and owners. Thin: the
work is in `wuye.registry.imports` (and its `jobs`) and `wuye.registry.exports`."""

import tempfile
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.params import parse_id

from . import exports, tasks
from .imports import jobs
from .models import Estate, ImportJob
from .selectors import estates_for, get_scoped

IMPORT_PERM = "registry.import_registry"
EXPORT_PERM = "registry.export_registry"
COUNT_LABELS = {
    "buildings_created": gettext_lazy("new buildings"),
    "buildings_updated": gettext_lazy("buildings updated"),
    "units_created": gettext_lazy("new units"),
    "units_updated": gettext_lazy("units updated"),
    "parties_created": gettext_lazy("new owners"),
    "parties_updated": gettext_lazy("owners updated"),
    "ownerships_created": gettext_lazy("ownerships recorded"),
    "ownerships_ended": gettext_lazy("earlier ownerships ended (transfers)"),
}
# a queued job waiting longer than this says that no worker seems to be running
WORKER_PATIENCE_SECONDS = 30
# a running job without progress this long may have lost its worker (the sweep fails it
# after jobs.STALLED_AFTER; writing on SQLite reports nothing until it commits)
SILENCE_SECONDS = 300


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[
            ("units", gettext_lazy("Units")),
            ("buildings", gettext_lazy("Buildings")),
            ("owners", gettext_lazy("Owners")),
        ],
    )
    estate = forms.ModelChoiceField(label=gettext_lazy("Estate"), queryset=Estate.objects.none())
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv in UTF-8 or GBK)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
    update = forms.BooleanField(
        label=gettext_lazy("Update records that already exist"), required=False
    )
    create_buildings = forms.BooleanField(
        label=gettext_lazy("Create buildings that the units file names"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)
        for name in ("kind", "estate"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs["class"] = "form-control"
        for name in ("update", "create_buildings"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > jobs.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB: split it into several files.")
                % {"mb": jobs.MAX_FILE_BYTES // 2**20}
            )
        return upload


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpForbidden(perm)


def _estate_or_404(request, value) -> Estate:
    if (estate_id := parse_id("estate", value)) is None:
        raise Http404("estate")
    return get_scoped(Estate.objects.filter(is_active=True), request.user, "id", pk=estate_id)


def _job_or_404(request, pk: int) -> ImportJob:
    _require(request, IMPORT_PERM)
    return jobs.import_job_get(request.user, pk)


def _job_page(job: ImportJob):
    return redirect("registry:import_job", pk=job.pk)


def _imported(request, job: ImportJob):
    """A small import written in the request: say so and show the records, as before."""
    text = {
        "units": _("Imported %(count)d units"),
        "buildings": _("Imported %(count)d buildings"),
        "owners": _("Imported %(count)d ownerships"),
    }[job.kind]
    messages.success(request, text % {"count": job.report.get("imported", 0)})
    target = "registry:party_list" if job.kind == "owners" else "registry:unit_list"
    return redirect(f"{reverse(target)}?estate={job.estate_id}")


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _require(request, IMPORT_PERM)
    if request.method == "POST":
        if request.POST.get("estate"):
            _estate_or_404(request, request.POST["estate"])  # another estate: 404
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            jobs.import_jobs_sweep()  # a safety net for installations without the scheduler
            try:
                job, created = jobs.import_job_upload(
                    actor=request.user,
                    estate=form.cleaned_data["estate"],
                    kind=form.cleaned_data["kind"],
                    file=upload,
                    filename=PurePath(upload.name).name,
                    update=form.cleaned_data["update"],
                    create_buildings=form.cleaned_data["create_buildings"],
                )
            except PermissionDenied as exc:
                raise HttpForbidden(str(exc)) from exc
            if not created:
                messages.info(request, _("This file is already being imported: here it is."))
            elif jobs.runs_in_request(job):
                jobs.import_job_check(job_id=job.pk)
            else:
                tasks.check_import.enqueue(job.pk)
            return _job_page(job)
    else:
        form = ImportForm(user=request.user, initial={"kind": request.GET.get("kind", "units")})
    return render(
        request,
        "registry/import.html",
        {
            "form": form,
            "can_export": request.user.has_perm(EXPORT_PERM),
            "estates": estates_for(request.user),
            "jobs": jobs.import_jobs_for(request.user),
        },
    )


@login_required
@require_GET
def import_job(request, pk: int):
    """The job's page; with htmx, only its status block (polled every 2 s while it runs)."""
    job = _job_or_404(request, pk)
    waiting = (timezone.now() - (job.heartbeat_at or job.created_at)).total_seconds()
    writing_blind = job.step == ImportJob.Step.WRITING and not jobs.write_progress_visible()
    context = {
        "job": job,
        "percent": 100 if writing_blind else job.progress_percent,
        "counts": {COUNT_LABELS[k]: v for k, v in job.report.get("counts", {}).items() if v},
        "write_progress_visible": jobs.write_progress_visible(),
        "no_worker": job.state in (ImportJob.State.QUEUED, ImportJob.State.CONFIRMED)
        and waiting > WORKER_PATIENCE_SECONDS,
        "silent_since": job.heartbeat_at
        if job.state in ImportJob.RUNNING
        and job.heartbeat_at
        and (timezone.now() - job.heartbeat_at).total_seconds() > SILENCE_SECONDS
        else None,
        "errors_hidden": job.errors_total - len(job.errors),
    }
    template = "registry/_import_job.html" if request.htmx else "registry/import_job.html"
    return render(request, template, context)


@login_required
@require_POST
def import_confirm(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        job = jobs.import_job_confirm(actor=request.user, job=job)
    except PermissionDenied as exc:
        raise HttpForbidden(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return _job_page(job)
    if not jobs.runs_in_request(job):
        tasks.apply_import.enqueue(job.pk)
        return _job_page(job)
    job = jobs.import_job_apply(job_id=job.pk)
    if job.state == ImportJob.State.DONE:
        return _imported(request, job)
    return _job_page(job)  # the registry changed since the preview: the page says why


@login_required
@require_POST
def import_discard(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        jobs.import_job_discard(actor=request.user, job=job)
    except PermissionDenied as exc:
        raise HttpForbidden(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return _job_page(job)
    messages.info(request, _("The import was discarded; nothing was written."))
    return redirect("registry:import")


@login_required
@require_POST
def import_retry(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        job = jobs.import_job_retry(actor=request.user, job=job)
    except PermissionDenied as exc:
        raise HttpForbidden(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return _job_page(job)
    if jobs.runs_in_request(job):
        jobs.import_job_check(job_id=job.pk)
    else:
        tasks.check_import.enqueue(job.pk)
    return _job_page(job)


@login_required
@require_GET
def export(request, kind):
    _require(request, EXPORT_PERM)
    if kind not in exports.KINDS:
        raise Http404("export")
    fmt = request.GET.get("format", "xlsx")
    if fmt not in exports.FORMATS:
        raise Http404("format")
    estate = _estate_or_404(request, request.GET.get("estate"))
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    try:
        exports.export_write(actor=request.user, estate=estate, kind=kind, fmt=fmt, file=handle)
    except PermissionDenied as exc:
        handle.close()
        raise HttpForbidden(str(exc)) from exc
    handle.seek(0)
    filename = f"{estate.code}-{kind}-{timezone.localdate():%Y%m%d}.{fmt}"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=exports.CONTENT_TYPES[fmt]
    )
