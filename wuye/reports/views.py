"""The dashboard (工作台 of managers), the drill-down and the report pages. Thin: parse the
scope and date, call `dashboard.figures` / selectors / tables, draw the charts, render."""

from datetime import date

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from wuye.core.params import query_choice, query_date, query_id, query_month
from wuye.fees.models import FeeItem
from wuye.registry.models import Building

from . import charts, collection_seam, dashboard, selectors
from .definitions import BUCKETS, DEFINITIONS, month_add
from .models import KindGroup


def _perm(perm: str):
    def wrap(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return wrap


def as_of_of(request) -> date:
    """The `as_of` date of the query string (today when none; a 400 when impossible)."""
    return query_date(request.GET, "as_of", timezone.localdate())


def scope_of(request) -> selectors.Scope:
    return selectors.scope_for(
        request.user,
        estate_id=query_id(request.GET, "estate"),
        building_id=query_id(request.GET, "building"),
        fee_item_id=query_id(request.GET, "item"),
    )


def drill_url(scope: selectors.Scope, as_of: date, **params) -> str:
    query = {**scope.params(), "as_of": as_of.isoformat(), **params}
    return f"{reverse('reports:drill')}?{urlencode(query)}"


def _charts(f: dashboard.Figures) -> dict:
    scope, as_of = f.scope, f.as_of
    fees = KindGroup.FEE.value
    trend = charts.columns(
        [p.month for p in f.trend],
        [
            (
                _("this year"),
                [p.rate.rate for p in f.trend],
                [drill_url(scope, as_of, period=p.month, kinds=fees) for p in f.trend],
            ),
            (
                _("last year"),
                [p.last_year.rate for p in f.trend],
                [
                    drill_url(scope, as_of, period=month_add(p.month, -12), kinds=fees)
                    for p in f.trend
                ],
            ),
        ],
    )
    aging = charts.hbars(
        [charts.Bar(b.label, b.amount, drill_url(scope, as_of, bucket=b.code)) for b in f.aging],
        color=charts.PALETTE[3],
    )
    buildings = charts.hbars(
        [
            charts.Bar(
                f"{b.name}",
                b.owing,
                drill_url(scope, as_of, building=b.building_id, estate=""),
                f"{b.estate} {b.name}: {b.owing} ({b.units_owing}/{b.units_billed})",
            )
            for b in f.buildings
        ],
        color=charts.PALETTE[4],
    )
    channel_labels = dict(_channel_choices())
    channels = charts.hbars(
        [
            charts.Bar(str(channel_labels.get(r["channel"], r["channel"])), r["net"])
            for r in f.channels
        ],
        color=charts.PALETTE[2],
    )
    reasons = charts.hbars(
        [
            charts.Bar(
                f"{r['label']} ({r['households']})",
                r["amount"],
                drill_url(scope, as_of, reason=r["reason"]),
            )
            for r in f.reasons
        ],
        color=charts.PALETTE[5],
    )
    return {
        "trend": trend,
        "aging": aging,
        "buildings": buildings,
        "channels": channels,
        "reasons": reasons,
    }


def _channel_choices():
    from wuye.payments.models import Payment

    return Payment.Channel.choices


@_perm("reports.view_reports")
def dashboard_page(request):
    scope, as_of = scope_of(request), as_of_of(request)
    f = dashboard.figures(scope, as_of)
    context = {
        "f": f,
        "charts": _charts(f),
        "defs": DEFINITIONS,
        "estates": selectors.estates_for(request.user),
        "scope": scope,
        "drill": lambda **kw: drill_url(scope, as_of, **kw),
        "links": {
            "month": drill_url(scope, as_of, period=f.month, kinds="fee"),
            "year": drill_url(scope, as_of, kinds="fee"),
            "clearance": drill_url(scope, as_of, before=f.month),
            "owing": drill_url(scope, as_of),
            "households": drill_url(scope, as_of, period=f.month, kinds="fee"),
        },
    }
    return render(request, "reports/dashboard.html", context)


@_perm("reports.view_reports")
def drill(request):
    """The households and charges behind a figure."""
    scope, as_of = scope_of(request), as_of_of(request)
    g = request.GET
    kinds = [k for k in g.get("kinds", "").split(",") if k in KindGroup.values] or list(
        selectors.ARREARS
    )
    bucket = query_choice(g, "bucket", {b[0] for b in BUCKETS})
    d = selectors.Drill(
        period=query_month(g, "period"),
        periods_before=query_month(g, "before"),
        kinds=kinds,
        bucket=bucket,
        owing=g.get("owing", "1") != "0",
        as_of=as_of,
    )
    charges = selectors.drill_charges(scope, d)
    reason = g.get("reason", "")
    if reason:
        charges = collection_seam.charges_with_reason(charges, scope.estate_ids, reason)
    households = selectors.drill_households(charges)
    reasons = collection_seam.reasons_of([h.party_id for h in households])
    labels = collection_seam.reason_labels()
    for h in households:
        h.reason = labels.get(reasons.get(h.party_id, ""), "")
    page = Paginator(charges, 100).get_page(g.get("page"))
    building = Building.objects.filter(pk=scope.building_id).first() if scope.building_id else None
    item = FeeItem.objects.filter(pk=scope.fee_item_id).first() if scope.fee_item_id else None
    return render(
        request,
        "reports/drill.html",
        {
            "scope": scope,
            "as_of": as_of,
            "d": d,
            "reason": labels.get(reason, "") if reason else "",
            "households": households,
            "page": page,
            "building": building,
            "item": item,
            "total": sum((h.outstanding for h in households), 0),
            "back": f"{reverse('reports:dashboard')}?{urlencode(scope.params())}",
        },
    )


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
