"""The reports API (/api/v1/reports/...): every figure of the dashboard and every table, with
the same scope (estates of the caller; another estate is a 404), the same definitions
(returned with the dashboard) and the same permission (`reports.view_reports`)."""

from datetime import date
from itertools import islice

from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.core.params import query_choice, query_date, query_id, query_int, query_month

from . import collection_seam, dashboard, selectors, tables
from .definitions import BUCKETS, DEFINITIONS, month_of

SCOPE = [
    OpenApiParameter("estate", int),
    OpenApiParameter("building", int),
    OpenApiParameter("item", int),
    OpenApiParameter("as_of", OpenApiTypes.DATE),
]


class CanViewReports(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("reports.view_reports"))


class ReportView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanViewReports]
    figure = ""

    def scope(self, request) -> selectors.Scope:
        q = request.query_params
        return selectors.scope_for(
            request.user,
            estate_id=query_id(q, "estate"),
            building_id=query_id(q, "building"),
            fee_item_id=query_id(q, "item"),
        )

    def as_of(self, request) -> date:
        return query_date(request.query_params, "as_of", timezone.localdate())

    def range(self, request) -> tuple[date, date]:
        today = timezone.localdate()
        q = request.query_params
        return query_date(q, "start", today.replace(day=1)), query_date(q, "end", today)

    @extend_schema(parameters=SCOPE, responses=OpenApiTypes.OBJECT)
    def get(self, request, **kwargs):
        scope, as_of = self.scope(request), self.as_of(request)
        body = self.compute(request, scope, as_of, **kwargs)
        if self.figure in DEFINITIONS:
            body["definition"] = str(DEFINITIONS[self.figure])
        return Response(body)


class Dashboard(ReportView):
    def compute(self, request, scope, as_of):
        return dashboard.figures(scope, as_of).as_dict()


class Rates(ReportView):
    figure = "collection_rate"

    def compute(self, request, scope, as_of):
        period = query_month(request.query_params, "period", month_of(as_of))
        return {
            "period": period,
            "collection_rate": selectors.period_rate(scope, period, as_of).as_dict(),
            "cumulative_rate": selectors.cumulative_rate(scope, period, as_of).as_dict(),
            "household_rate": selectors.household_rate(scope, period).as_dict(),
        }


class YearRate(ReportView):
    figure = "year_rate"

    def compute(self, request, scope, as_of):
        year = query_int(request.query_params, "year", as_of.year, minimum=1, maximum=9999)
        return {"year": year, "year_rate": selectors.year_rate(scope, year, as_of).as_dict()}


class ClearanceRate(ReportView):
    figure = "clearance_rate"

    def compute(self, request, scope, as_of):
        month = query_month(request.query_params, "month", month_of(as_of))
        return {"month": month, "clearance_rate": selectors.clearance_rate(scope, month).as_dict()}


class Aging(ReportView):
    figure = "aging"

    def compute(self, request, scope, as_of):
        return {
            "as_of": as_of.isoformat(),
            "buckets": [
                {"bucket": b.code, "label": b.label, "amount": str(b.amount)}
                for b in selectors.aging(scope, as_of)
            ],
            "late_fees_owed": str(selectors.late_fees_owed(scope)),
        }


class Split(ReportView):
    figure = "split"

    def compute(self, request, scope, as_of):
        month = query_month(request.query_params, "month", month_of(as_of))
        return {"month": month, **selectors.payment_split(scope, month).as_dict()}


class Trend(ReportView):
    figure = "collection_rate"

    def compute(self, request, scope, as_of):
        year = query_int(request.query_params, "year", as_of.year, minimum=1, maximum=9999)
        return {
            "year": year,
            "months": [
                {"month": p.month, "rate": p.rate.as_dict(), "last_year": p.last_year.as_dict()}
                for p in selectors.monthly_trend(scope, year, as_of)
            ],
        }


class Buildings(ReportView):
    figure = "owing_households"

    def compute(self, request, scope, as_of):
        owing = selectors.owing_households(scope)
        return {
            "households_owing": int(owing.part),
            "households": int(owing.whole),
            "owed": str(owing.billed),
            "buildings": [
                {
                    "building": b.building_id,
                    "name": b.name,
                    "estate": b.estate,
                    "owing": str(b.owing),
                    "households_owing": b.units_owing,
                    "households": b.units_billed,
                }
                for b in selectors.arrears_by_building(scope, limit=1000)
            ],
        }


def _money_rows(rows):
    return [
        {k: v if isinstance(v, int | str | type(None)) else str(v) for k, v in r.items()}
        for r in rows
    ]


class Channels(ReportView):
    figure = "channels"

    def compute(self, request, scope, as_of):
        start, end = self.range(request)
        return {"rows": _money_rows(selectors.channel_mix(scope, start, end))}


class Cashiers(ReportView):
    figure = "channels"

    def compute(self, request, scope, as_of):
        start, end = self.range(request)
        return {"rows": _money_rows(selectors.by_cashier(scope, start, end))}


class Reasons(ReportView):
    def compute(self, request, scope, as_of):
        rows = collection_seam.unpaid_by_reason(scope.estate_ids, scope.building_id, as_of)
        return {"rows": _money_rows(rows)}


class Collectors(ReportView):
    def compute(self, request, scope, as_of):
        start, end = self.range(request)
        return {
            "rows": _money_rows(collection_seam.collector_performance(scope.estate_ids, start, end))
        }


class Disputes(ReportView):
    def compute(self, request, scope, as_of):
        start, end = self.range(request)
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "rows": collection_seam.disputes(scope.estate_ids, start, end),
        }


class Drill(ReportView):
    def compute(self, request, scope, as_of):
        q = request.query_params
        kinds = [k for k in (q.get("kinds") or "").split(",") if k] or list(selectors.ARREARS)
        d = selectors.Drill(
            period=query_month(q, "period"),
            periods_before=query_month(q, "before"),
            kinds=kinds,
            bucket=query_choice(q, "bucket", {b[0] for b in BUCKETS}),
            owing=q.get("owing", "1") != "0",
            as_of=as_of,
        )
        households = selectors.drill_households(selectors.drill_charges(scope, d))
        return {
            "households": [
                {
                    "unit": h.unit_id,
                    "unit_number": h.unit,
                    "building": h.building,
                    "party": h.party_id,
                    "party_name": h.party,
                    "charges": h.charges,
                    "amount": str(h.amount),
                    "outstanding": str(h.outstanding),
                }
                for h in households
            ]
        }


class Table(ReportView):
    def compute(self, request, scope, as_of, name: str):
        table = tables.BY_NAME.get(name)
        if table is None:
            raise Http404("table")
        start, end = self.range(request)
        p = tables.Params(
            start=start, end=end, reveal=request.user.has_perm("reports.view_debtor_contacts")
        )
        rows = list(islice(table.rows(scope, p), 1000))
        return {
            "table": name,
            "title": str(table.title),
            "note": str(table.note),
            "columns": [str(c) for c in table.columns],
            "rows": [
                [v if isinstance(v, int | str | type(None)) else str(v) for v in r] for r in rows
            ],
        }


urlpatterns = [
    path("reports/dashboard/", Dashboard.as_view(), name="reports-dashboard"),
    path("reports/rates/", Rates.as_view(), name="reports-rates"),
    path("reports/year-rate/", YearRate.as_view(), name="reports-year-rate"),
    path("reports/clearance-rate/", ClearanceRate.as_view(), name="reports-clearance-rate"),
    path("reports/aging/", Aging.as_view(), name="reports-aging"),
    path("reports/split/", Split.as_view(), name="reports-split"),
    path("reports/trend/", Trend.as_view(), name="reports-trend"),
    path("reports/arrears-by-building/", Buildings.as_view(), name="reports-buildings"),
    path("reports/channels/", Channels.as_view(), name="reports-channels"),
    path("reports/cashiers/", Cashiers.as_view(), name="reports-cashiers"),
    path("reports/reasons/", Reasons.as_view(), name="reports-reasons"),
    path("reports/collectors/", Collectors.as_view(), name="reports-collectors"),
    path("reports/disputes/", Disputes.as_view(), name="reports-disputes"),
    path("reports/drill/", Drill.as_view(), name="reports-drill"),
    path("reports/tables/<slug:name>/", Table.as_view(), name="reports-table"),
]
