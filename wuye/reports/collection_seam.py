"""What the reports read from the collection app, in one place: why households have not paid
(the reason on their arrears case) and how the collectors are doing (contacts, promises,
money recovered). Everything else in reports reads only the books."""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.money import ZERO, MoneySum
from wuye.core.names import person_name

NO_CASE = "none"
NO_REASON = "unknown"


def _models():
    from wuye.collection.models import ArrearsCase, ContactLog, PromiseToPay
    from wuye.collection.models.choices import CaseStatus, Reason

    return ArrearsCase, ContactLog, PromiseToPay, CaseStatus, Reason


def reason_labels() -> dict[str, str]:
    *_rest, reason = _models()
    labels = {value: str(label) for value, label in reason.choices}
    labels[NO_REASON] = str(_("Reason not yet known"))
    labels[NO_CASE] = str(_("No arrears case yet"))
    return labels


def _cases(estate_ids, building_id=None):
    case, _c, _p, status, _r = _models()
    qs = case.objects.filter(estate_id__in=estate_ids).exclude(status=status.CLOSED)
    if building_id:
        qs = qs.filter(party__relations__unit__building_id=building_id).distinct()
    return qs


def unpaid_by_reason(estate_ids, building_id=None) -> list[dict]:
    """Households (parties) with an open arrears case, by the case's reason: how many and
    what the cases say is overdue."""
    rows = (
        _cases(estate_ids, building_id)
        .order_by()
        .values("reason")
        .annotate(n=Count("id"), s=MoneySum("amount"))
    )
    labels = reason_labels()
    out = [
        {
            "reason": r["reason"] or NO_REASON,
            "label": labels.get(r["reason"] or NO_REASON, r["reason"]),
            "households": r["n"],
            "amount": r["s"],
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["amount"], r["reason"]))


def reasons_of(party_ids) -> dict[int, str]:
    """{party id: reason code} of the parties' open cases (NO_CASE where none)."""
    case, _c, _p, status, _r = _models()
    found = dict(
        case.objects.filter(party_id__in=list(party_ids))
        .exclude(status=status.CLOSED)
        .values_list("party_id", "reason")
    )
    return {pid: (found[pid] or NO_REASON) if pid in found else NO_CASE for pid in party_ids}


def parties_with_reason(estate_ids, reason: str):
    """Party ids of open cases with `reason` (for the drill-down)."""
    qs = _cases(estate_ids)
    qs = qs.filter(reason="") if reason == NO_REASON else qs.filter(reason=reason)
    return qs.values_list("party_id", flat=True)


def _span(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end, time.max), tz),
    )


def collector_performance(estate_ids, start: date, end: date) -> list[dict]:
    """Per collector, between `start` and `end`: contacts recorded, promises made and kept,
    and money recovered (new money applied to charges of the parties whose case the collector
    holds)."""
    from wuye.payments.models import Allocation, Payment

    case, contact, promise, _s, _r = _models()
    since, until = _span(start, end)
    stats: dict[int, dict] = defaultdict(
        lambda: {"contacts": 0, "promises": 0, "kept": 0, "broken": 0, "recovered": ZERO}
    )
    for r in (
        contact.objects.filter(estate_id__in=estate_ids, at__range=(since, until))
        .exclude(staff__isnull=True)
        .order_by()
        .values("staff_id")
        .annotate(n=Count("id"))
    ):
        stats[r["staff_id"]]["contacts"] = r["n"]
    for r in (
        promise.objects.filter(estate_id__in=estate_ids, created_at__range=(since, until))
        .exclude(created_by__isnull=True)
        .order_by()
        .values("created_by_id")
        .annotate(
            n=Count("id"),
            kept=Count("id", filter=Q(status=promise.Status.KEPT)),
            broken=Count("id", filter=Q(status=promise.Status.BROKEN)),
        )
    ):
        cell = stats[r["created_by_id"]]
        cell["promises"], cell["kept"], cell["broken"] = r["n"], r["kept"], r["broken"]
    assigned = defaultdict(set)
    for party_id, user_id in (
        case.objects.filter(estate_id__in=estate_ids, assignee__isnull=False)
        .order_by()
        .values_list("party_id", "assignee_id")
    ):
        assigned[user_id].add(party_id)
    for user_id, parties in assigned.items():
        total = (
            Allocation.objects.filter(
                estate_id__in=estate_ids,
                charge__party_id__in=list(parties),
                payment__business_date__range=(start, end),
            )
            .exclude(payment__channel=Payment.Channel.PREPAYMENT)
            .aggregate(s=Sum("amount"))["s"]
        )
        stats[user_id]["recovered"] = Decimal(total or 0).quantize(ZERO)
    users = get_user_model().objects.in_bulk(list(stats))
    rows = []
    for user_id, s in stats.items():
        rate = (
            (Decimal(s["kept"]) / s["promises"]).quantize(Decimal("0.0001"))
            if s["promises"]
            else None
        )
        rows.append(
            {"user_id": user_id, "name": person_name(users.get(user_id)), **s, "kept_rate": rate}
        )
    return sorted(rows, key=lambda r: (-r["recovered"], r["name"]))
