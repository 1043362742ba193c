"""The arrears list (欠费清单, issue 14 §1): the collector's first screen. One row per owner
of the chosen estate, the amount in each ageing bucket, the oldest period, the last contact,
the case's stage and reason; filters, totals of everything filtered, sorting, pages, and the
audited, masked .xlsx export (`exports.arrears_export`)."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.params import query_id, query_int
from wuye.registry.selectors import estates_for, get_scoped

from . import page_selectors as ps
from . import selectors as sel
from .exports import arrears_export
from .models import Reason

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _amount(value: str | None, field: str, errors: dict) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        errors[field] = _("%(value)s is not an amount") % {"value": value}
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        errors[field] = _("%(value)s is not an amount") % {"value": value}
        return None
    return amount.quantize(Decimal("0.01"))


def _filters(request, estate) -> tuple[sel.ArrearsFilters, dict]:
    g = request.GET
    errors: dict[str, str] = {}
    bucket = g.get("bucket", "")
    filters = sel.ArrearsFilters(
        estate_id=estate.pk if estate else -1,
        building_id=ps.own_building(estate, query_id(g, "building")),
        bucket=bucket if bucket in ps.BUCKET_LABELS else "",
        min_amount=_amount(g.get("min"), "min", errors),
        max_amount=_amount(g.get("max"), "max", errors),
        stage=query_int(g, "stage", maximum=99),
        reason=g.get("reason", "") if g.get("reason", "") in Reason.values else "",
        collector_id=ps.own_worker(estate, query_id(g, "collector")),
        sort=g.get("sort", "-total") if g.get("sort", "-total") in sel.SORTS else "-total",
    )
    return filters, errors


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def arrears(request):
    estates, estate = ps.page_estate(request.user, request.GET.get("estate"))
    filters, errors = _filters(request, estate)
    as_of = timezone.localdate()
    rows = sel.arrears_list(request.user, as_of=as_of, filters=filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = sel.arrears_details(list(page.object_list))
    ids = [r["party_id"] for r in items]
    units = ps.arrears_units(ids, as_of=as_of, estate_id=estate.pk if estate else None)
    for r in items:
        r["units"] = units.get(r["party_id"], [])
    return render(
        request,
        "collection/arrears.html",
        {
            "page": page,
            "items": items,
            "totals": sel.arrears_totals(rows),
            "f": filters,
            "errors": errors,
            "min": request.GET.get("min", ""),
            "max": request.GET.get("max", ""),
            "estates": estates,
            "estate": estate,
            "as_of": as_of,
            "buckets": [(name, ps.BUCKET_LABELS[name]) for name, _l, _h in sel.BUCKETS],
            "reasons": Reason.choices,
            "stages": ps.stage_numbers(estate),
            "workers": ps.case_workers(estate.pk) if estate else [],
            "buildings": ps.buildings_of(estate),
            "reveal": ps.reveal_for(request.user),
        },
        status=400 if errors else 200,  # the amounts refused are said next to their fields
    )


@login_required
@permission_required("collection.export_arrears", raise_exception=True)
def arrears_download(request):
    estate = get_scoped(
        estates_for(request.user), request.user, "id", pk=query_id(request.GET, "estate")
    )
    filters, _errors = _filters(request, estate)
    content, _count = arrears_export(actor=request.user, estate=estate, filters=filters)
    response = HttpResponse(content, content_type=XLSX)
    name = f"arrears-{estate.code}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
