"""Reads of the resolution paths, scoped to the user's estates (ADR 0003)."""

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from wuye.registry.selectors import scope

from .limitation import Clock
from .limitation_selectors import party_clocks
from .models import ArrearsCase, Dispute, FormalDemand, InstallmentPlan, LegalCase, WorkOrder


def cases_for(user) -> QuerySet[ArrearsCase]:
    return scope(ArrearsCase.objects.select_related("party", "estate"), user)


def plans_for(user, *, status: str = "") -> QuerySet[InstallmentPlan]:
    qs = scope(InstallmentPlan.objects.select_related("party", "case"), user)
    return qs.filter(status=status) if status else qs


def disputes_for(user, *, status: str = "") -> QuerySet[Dispute]:
    qs = scope(Dispute.objects.select_related("party", "case"), user)
    return qs.filter(status=status) if status else qs


def work_orders_for(user, *, status: str = "", department: str = "") -> QuerySet[WorkOrder]:
    qs = scope(WorkOrder.objects.select_related("dispute__party", "owner"), user)
    if status:
        qs = qs.filter(status=status)
    if department:
        qs = qs.filter(department=department)
    return qs


def demands_for(user, *, status: str = "") -> QuerySet[FormalDemand]:
    qs = scope(FormalDemand.objects.select_related("party", "case"), user)
    return qs.filter(status=status) if status else qs


def legal_cases_for(user, *, status: str = "") -> QuerySet[LegalCase]:
    qs = scope(LegalCase.objects.select_related("party", "case"), user)
    return qs.filter(status=status) if status else qs


def case_clocks(case: ArrearsCase, *, today: date | None = None) -> list[Clock]:
    return party_clocks(case.party, today=today or timezone.localdate())


def case_limitation_warning(case: ArrearsCase, *, today: date | None = None) -> dict:
    """What the case page warns about: periods ending within 90 days, and barred ones."""
    clocks = case_clocks(case, today=today)
    return {
        "soon": [c for c in clocks if c.ending_soon],
        "barred": [c for c in clocks if c.barred],
        "clocks": clocks,
    }


def dispute_report(user, *, start: date | None = None, end: date | None = None) -> dict:
    """Disputes and their resolution times by category (for the reports)."""
    qs = disputes_for(user)
    if start:
        qs = qs.filter(raised_at__date__gte=start)
    if end:
        qs = qs.filter(raised_at__date__lte=end)
    rows: dict[str, dict] = {}
    for d in qs:
        row = rows.setdefault(
            d.category,
            {"category": d.get_category_display(), "raised": 0, "resolved": 0, "hours": []},
        )
        row["raised"] += 1
        if d.resolution_hours is not None:
            row["resolved"] += 1
            row["hours"].append(d.resolution_hours)
    for row in rows.values():
        hours = sorted(row.pop("hours"))
        row["average_hours"] = round(sum(hours) / len(hours), 1) if hours else None
        row["median_hours"] = hours[len(hours) // 2] if hours else None
    return {"rows": sorted(rows.values(), key=lambda r: -r["raised"])}
