"""Import and export pages: upload -> validated preview (counts, first rows, every error) ->
confirm -> written; and downloads of buildings, units and owners. Thin: the work is in
`wuye.registry.imports` and `wuye.registry.exports`."""

import secrets
import tempfile
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from wuye.core.errors import DomainError, PermissionDenied

from . import exports
from .imports import ImportRejected, ImportReport, import_apply, import_check
from .models import Estate
from .selectors import estates_for, get_scoped

SESSION_PREFIX = "wuye_import_"
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


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpForbidden(perm)


def _estate_or_404(request, value) -> Estate:
    if not str(value or "").isdigit():
        raise Http404("estate")
    return get_scoped(Estate.objects.filter(is_active=True), request.user, "id", pk=int(value))


def _forget_pending(request) -> None:
    """Drop this user's earlier uploads that were never confirmed."""
    for key in [k for k, _v in request.session.items() if k.startswith(SESSION_PREFIX)]:
        default_storage.delete(request.session.pop(key)["path"])


def _run(service, request, pending: dict, estate: Estate) -> ImportReport:
    with default_storage.open(pending["path"], "rb") as handle:
        try:
            return service(
                actor=request.user,
                estate=estate,
                kind=pending["kind"],
                file=handle,
                filename=pending["filename"],
                update=pending["update"],
                create_buildings=pending["create_buildings"],
            )
        except PermissionDenied as exc:
            raise HttpForbidden(str(exc)) from exc


def _preview(request, report: ImportReport, token: str, pending: dict, status: int = 200):
    rows = [
        {
            "row": item["row"],
            "cells": [
                item["values"].get(column.key, item["raw"].get(column.key, ""))
                for _shown, column in (report.checked.columns if report.checked else [])
            ],
        }
        for item in report.preview
    ]
    context = {
        "report": report,
        "token": token,
        "pending": pending,
        "rows": rows,
        "counts": {COUNT_LABELS[k]: v for k, v in report.counts.items() if v},
    }
    return render(request, "registry/import_preview.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _require(request, IMPORT_PERM)
    if request.method == "POST":
        if request.POST.get("estate"):
            _estate_or_404(request, request.POST["estate"])  # another estate: 404
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            _forget_pending(request)
            upload = form.cleaned_data["file"]
            token = secrets.token_urlsafe(16)
            name = get_valid_filename(PurePath(upload.name).name) or "upload"
            path = default_storage.save(f"imports/{token}/{name}", upload)
            pending = {
                "path": path,
                "filename": PurePath(upload.name).name,
                "kind": form.cleaned_data["kind"],
                "estate_id": form.cleaned_data["estate"].pk,
                "update": form.cleaned_data["update"],
                "create_buildings": form.cleaned_data["create_buildings"],
            }
            request.session[SESSION_PREFIX + token] = pending
            report = _run(import_check, request, pending, form.cleaned_data["estate"])
            return _preview(request, report, token, pending)
    else:
        form = ImportForm(user=request.user, initial={"kind": request.GET.get("kind", "units")})
    return render(
        request,
        "registry/import.html",
        {
            "form": form,
            "can_export": request.user.has_perm(EXPORT_PERM),
            "estates": estates_for(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_confirm(request, token):
    _require(request, IMPORT_PERM)
    pending = request.session.get(SESSION_PREFIX + token)
    if pending is None or not default_storage.exists(pending["path"]):
        raise Http404("import")
    estate = _estate_or_404(request, pending["estate_id"])
    if request.method == "GET":
        return _preview(request, _run(import_check, request, pending, estate), token, pending)
    try:
        report = _run(import_apply, request, pending, estate)
    except ImportRejected as exc:  # the data changed since the preview: show why
        return _preview(request, exc.report, token, pending, status=409)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("registry:import")
    default_storage.delete(pending["path"])
    request.session.pop(SESSION_PREFIX + token, None)
    text = {
        "units": _("Imported %(count)d units"),
        "buildings": _("Imported %(count)d buildings"),
        "owners": _("Imported %(count)d ownerships"),
    }[report.kind]
    messages.success(request, text % {"count": report.imported})
    target = "registry:party_list" if report.kind == "owners" else "registry:unit_list"
    return redirect(f"{reverse(target)}?estate={estate.pk}")


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
