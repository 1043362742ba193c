"""Staff pages of the ledger: trial balance, journal, one entry, voucher export. Thin: parse the
filter, scope to the user's estates, call a selector or service, render."""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.normalize import as_date, as_id
from wuye.core.params import query_date, query_id
from wuye.registry.models import Estate
from wuye.registry.selectors import estates_for, get_scoped, visible_estate_ids

from . import selectors, services


@dataclass
class LedgerFilter:
    estate: Estate | None
    estate_ids: set[int] | None
    date_from: date | None
    date_to: date | None
    errors: list[str]

    def query(self) -> str:
        parts = []
        if self.estate:
            parts.append(f"estate={self.estate.pk}")
        if self.date_from:
            parts.append(f"from={self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to={self.date_to.isoformat()}")
        return "&".join(parts)


def _filter(request, *, default_from: date | None) -> LedgerFilter:
    """The estate (404 unless it is one of the user's) and the period from the query string
    (an impossible date, an estate that is not a number: a 400 naming it)."""
    errors: list[str] = []
    estate = None
    if (wanted := query_id(request.GET, "estate")) is not None:
        estate = get_scoped(Estate.objects.all(), request.user, "id", pk=wanted)
        estate_ids: set[int] | None = {estate.pk}
    else:
        estate_ids = visible_estate_ids(request.user)
    date_from = query_date(request.GET, "from", default_from)
    date_to = query_date(request.GET, "to", timezone.localdate())
    if date_from and date_to and date_from > date_to:
        errors.append(_("The period starts after it ends."))
    return LedgerFilter(estate, estate_ids, date_from, date_to, errors)


def _year_start() -> date:
    return timezone.localdate().replace(month=1, day=1)


@login_required
@permission_required("ledger.view_journalentry", raise_exception=True)
def trial_balance(request):
    flt = _filter(request, default_from=_year_start())
    report = selectors.trial_balance(flt.estate_ids, flt.date_from, flt.date_to)
    return render(
        request,
        "ledger/trial_balance.html",
        {"flt": flt, "report": report, "estates": estates_for(request.user)},
        status=400 if flt.errors else 200,
    )


@login_required
@permission_required("ledger.view_journalentry", raise_exception=True)
def journal(request):
    today = timezone.localdate()
    flt = _filter(request, default_from=today.replace(day=1))
    q = request.GET.get("q", "").strip()
    entries = selectors.journal(flt.estate_ids, flt.date_from, flt.date_to, q=q)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/journal.html",
        {"flt": flt, "page": page, "q": q, "estates": estates_for(request.user)},
        status=400 if flt.errors else 200,
    )


@login_required
@permission_required("ledger.view_journalentry", raise_exception=True)
def entry_detail(request, pk: int):
    entry = get_scoped(selectors.journal(None), request.user, pk=pk)
    return render(request, "ledger/entry_detail.html", {"entry": entry})


@login_required
@permission_required("ledger.export_vouchers", raise_exception=True)
def voucher_export(request):
    """Download the vouchers of one estate and period (.xlsx or .csv); audited."""
    today = timezone.localdate()
    flt = _filter(request, default_from=today.replace(day=1))
    fmt = request.GET.get("format", "xlsx")
    if flt.estate is None:
        return HttpResponse(_("Choose an estate to export."), status=400)
    if flt.errors:
        return HttpResponse(" ".join(flt.errors), status=400)
    try:
        content, _rows = services.vouchers_export(
            actor=request.user,
            estate=flt.estate,
            date_from=flt.date_from,
            date_to=flt.date_to,
            fmt=fmt,
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=400)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"vouchers-{flt.estate.code}-{flt.date_from:%Y%m%d}-{flt.date_to:%Y%m%d}.{fmt}"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@permission_required("ledger.view_periodclose", raise_exception=True)
def period_list(request):
    """The accounting period closes (结账) of the user's estates; closing the next month."""
    estates = estates_for(request.user)
    error = ""
    if request.method == "POST":
        if not request.user.has_perm("ledger.close_period"):
            raise PermissionDenied
        estate = get_scoped(
            Estate.objects.all(), request.user, "id", pk=as_id(request.POST.get("estate"))
        )
        raw = (request.POST.get("month") or "").strip()
        month = as_date(f"{raw}-01") if len(raw) == 7 else None
        if month is None:
            error = _("%(value)s is not a month (YYYY-MM)") % {"value": raw}
        else:
            try:
                services.period_close(
                    actor=request.user,
                    estate=estate,
                    month=month,
                    note=request.POST.get("note", ""),
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    _("%(estate)s: %(month)s closed.") % {"estate": estate.name, "month": raw},
                )
                return redirect("ledger:periods")
    closes = selectors.period_closes(visible_estate_ids(request.user))
    return render(
        request,
        "ledger/periods.html",
        {"closes": closes, "estates": estates, "error": error, "post": request.POST},
    )
