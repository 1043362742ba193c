"""The standard tables (page and .xlsx), and the monthly and quarterly collection report PDF."""

from itertools import islice

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.params import query_date

from . import documents, tables
from .exports import export_audit, xlsx
from .views import _download, _perm, as_of_of, scope_of

PREVIEW = 200


def _params(request) -> tables.Params:
    today = timezone.localdate()
    start = query_date(request.GET, "start", today.replace(day=1))
    end = query_date(request.GET, "end", today)
    if end < start:
        start, end = end, start
    reveal = request.user.has_perm("reports.view_debtor_contacts")
    return tables.Params(start=start, end=end, reveal=reveal)


def _table(name: str) -> tables.Table:
    table = tables.BY_NAME.get(name)
    if table is None:
        raise Http404("table")
    return table


@_perm("reports.view_reports")
def table_index(request):
    from .selectors import estates_for

    return render(
        request,
        "reports/tables.html",
        {"tables": tables.TABLES, "estates": estates_for(request.user), "p": _params(request)},
    )


@_perm("reports.view_reports")
def table_page(request, name: str):
    from .selectors import estates_for

    table, scope, p = _table(name), scope_of(request), _params(request)
    rows = list(islice(table.rows(scope, p), PREVIEW + 1))
    return render(
        request,
        "reports/table.html",
        {
            "table": table,
            "rows": rows[:PREVIEW],
            "more": len(rows) > PREVIEW,
            "scope": scope,
            "p": p,
            "estates": estates_for(request.user),
            "query": request.GET.urlencode(),
        },
    )


@_perm("reports.export_reports")
def table_export(request, name: str):
    table, scope, p = _table(name), scope_of(request), _params(request)
    content, count = xlsx(
        str(table.title), table.columns, table.rows(scope, p), note=str(table.note)
    )
    export_audit(
        actor=request.user,
        name=name,
        estate_ids=scope.estate_ids,
        params={"start": p.start.isoformat(), "end": p.end.isoformat(), "reveal": p.reveal},
        rows=count,
    )
    return _download(
        content,
        f"{name}-{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@_perm("reports.export_reports")
def collection_report(request):
    scope, as_of = scope_of(request), as_of_of(request)
    if len(scope.estate_ids) != 1:
        raise Http404(_("choose one estate"))
    kind = request.GET.get("kind", "month")
    if kind not in ("month", "quarter"):
        raise Http404("kind")
    reveal = request.user.has_perm("reports.view_debtor_contacts")
    content = documents.collection_report(scope, as_of, kind=kind, reveal=reveal)
    export_audit(
        actor=request.user,
        name=f"collection-report-{kind}",
        estate_ids=scope.estate_ids,
        params={"as_of": as_of.isoformat(), "reveal": reveal},
        rows=1,
        kind="pdf",
    )
    return _download(content, f"collection-{kind}-{as_of:%Y%m%d}.pdf", "application/pdf")
