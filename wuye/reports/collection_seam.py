"""What the reports read from the collection app, in one place: why households have not paid
(the reason on their arrears case) and how the collectors are doing (contacts, promises,
money recovered). Everything else in reports reads only the books."""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from statistics import median

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.money import ZERO, MoneySum
from wuye.core.names import person_name

NO_CASE = "none"
HALF_FEN = Decimal("0.005")  # a prepayment balance above it is money (SQLite sums floats)
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


def unpaid_by_reason(estate_ids, building_id=None, as_of: date | None = None) -> list[dict]:
    """Households (parties) with an open arrears case, by the case's reason: how many and
    what the cases say is overdue. With `as_of`, the parties owing overdue money that no open
    case covers yet (before the first dunning run, or below the policy's threshold) are one
    more line, "no arrears case yet", counted and netted as the cases are (`_without_case`)."""
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
    if as_of is not None:
        households, amount = _without_case(estate_ids, building_id, as_of)
        if households > 0 and amount > 0:
            out.append(
                {
                    "reason": NO_CASE,
                    "label": labels[NO_CASE],
                    "households": households,
                    "amount": amount,
                }
            )
    return sorted(out, key=lambda r: (-r["amount"], r["reason"]))


def _last_runs(estate_ids) -> dict[int, date]:
    """{estate: the day of its last finished dunning run} (a run of every estate counts)."""
    from wuye.collection.models import DunningRun

    done = DunningRun.objects.filter(status=DunningRun.Status.DONE)
    every = done.filter(estate__isnull=True).aggregate(d=Max("as_of"))["d"]
    last = dict(
        done.filter(estate_id__in=estate_ids)
        .order_by()
        .values("estate_id")
        .annotate(d=Max("as_of"))
        .values_list("estate_id", "d")
    )
    return {
        e: max(d for d in (last.get(e), every) if d) for e in estate_ids if last.get(e) or every
    }


def _without_case(estate_ids, building_id, as_of: date) -> tuple[int, Decimal]:
    """(parties, amount) owing overdue money with no open arrears case, on the cases' basis:
    open charges due before `as_of` (this month's bill not yet due is not arrears), parties
    counted once however many units they have, net of their prepayment as the dunning run
    nets it (`collection.services.run.net_left`: earmarked money against its fee item's
    charges, then general money against the rest; the order decides which charges stay
    unpaid, not how much).

    A dunning run opens a case for every party it finds owing, so once an estate has had one
    only parties with a charge fallen due since (on or after the run's day) can be without a
    case: those are the ones looked at (an index range of a few days), not every charge.
    Before an estate's first run, all its overdue charges are."""
    from wuye.billing.models import Charge, PrepaymentMovement

    overdue = Charge.objects.filter(
        status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=as_of
    ).exclude(party_id__in=_cases(estate_ids).values("party_id"))
    runs = _last_runs(estate_ids)
    scope = Q(estate_id__in=[e for e in estate_ids if e not in runs])
    if runs:
        fresh = Q()
        for estate_id, day in runs.items():
            fresh |= Q(estate_id=estate_id, due_date__gte=day)
        scope |= Q(estate_id__in=list(runs), party_id__in=overdue.filter(fresh).values("party_id"))
    charges = overdue.filter(scope)
    if building_id:
        charges = charges.filter(unit__building_id=building_id)
    gross = charges.aggregate(n=Count("party_id", distinct=True), s=MoneySum("outstanding"))
    parties, amount = gross["n"], gross["s"]
    credit: dict[int, dict[int | None, Decimal]] = defaultdict(dict)
    for party_id, item_id, balance in (
        PrepaymentMovement.objects.filter(
            estate_id__in=estate_ids, party_id__in=charges.values("party_id")
        )
        .order_by()
        .values("party_id", "fee_item_id")
        .annotate(b=MoneySum("amount"))
        .filter(b__gt=HALF_FEN)
        .values_list("party_id", "fee_item_id", "b")
    ):
        credit[party_id][item_id] = balance
    if not credit:
        return parties, amount
    owed: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for party_id, item_id, outstanding in (
        charges.filter(party_id__in=list(credit))
        .order_by()
        .values("party_id", "fee_item_id")
        .annotate(s=MoneySum("outstanding"))
        .values_list("party_id", "fee_item_id", "s")
    ):
        owed[party_id][item_id] = outstanding
    for party_id, items in owed.items():
        pools = credit[party_id]
        left = sum((max(s - pools.get(item, ZERO), ZERO) for item, s in items.items()), ZERO)
        left = max(left - pools.get(None, ZERO), ZERO)
        amount -= sum(items.values(), ZERO) - left
        parties -= 0 if left > 0 else 1
    return parties, amount


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


def charges_with_reason(charges, estate_ids, reason: str):
    """The drill-down's charges of households with `reason`: of parties whose open case has
    it, or (NO_CASE) of parties with no open case."""
    if reason == NO_CASE:
        return charges.exclude(party_id__in=_cases(estate_ids).values("party_id"))
    return charges.filter(party_id__in=list(parties_with_reason(estate_ids, reason)))


def holder():
    """The collector holding the payer's open arrears case, as a subquery on payments
    (`summaries.post` annotates the payments it reads with it: no statement of its own)."""
    case, _c, _p, status, _r = _models()
    return Subquery(
        case.objects.filter(party_id=OuterRef("party_id"), assignee__isnull=False)
        .exclude(status=status.CLOSED)
        .order_by("-opened_on", "-id")
        .values("assignee_id")[:1]
    )


def _span(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end, time.max), tz),
    )


def collector_performance(estate_ids, start: date, end: date) -> list[dict]:
    """Per collector, between `start` and `end`: contacts recorded, promises made and kept,
    and money recovered (new money applied to charges by parties whose open case the collector
    held when it came, net of voids and refunds of it: `Recovery`, written with the payment)."""
    from .models import Recovery

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
    for r in (
        Recovery.objects.filter(estate_id__in=estate_ids, day__range=(start, end))
        .order_by()
        .values("staff_id")
        .annotate(s=MoneySum("amount"))
    ):
        stats[r["staff_id"]]["recovered"] = r["s"]
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


def _dispute_models():
    from wuye.collection.models import Dispute, WorkOrder
    from wuye.collection.models.disputes import DisputeCategory

    return Dispute, WorkOrder, DisputeCategory


def disputes(estate_ids, start: date, end: date) -> list[dict]:
    """Service disputes by category (README "Definitions": disputes): raised between `start`
    and `end`, resolved then, with their resolution times (hours from raised to resolved:
    median and longest), open at `end`, and work orders past their promised deadline
    (承诺时限) at `end`. The last row is the total."""
    dispute, work_order, category = _dispute_models()
    since, until = _span(start, end)
    labels = dict(category.choices)
    rows: dict[str, dict] = {}

    def row(code: str) -> dict:
        return rows.setdefault(
            code,
            {
                "category": code, "label": str(labels.get(code, code)), "raised": 0,
                "resolved": 0, "open": 0, "overdue_work_orders": 0, "hours": [],
            },
        )  # fmt: skip

    ds = dispute.objects.filter(estate_id__in=estate_ids)
    for code, n in (
        ds.filter(raised_at__range=(since, until)).order_by().values_list("category")
    ).annotate(n=Count("id")):
        row(code)["raised"] = n
    for code, raised, resolved in ds.filter(resolved_at__range=(since, until)).values_list(
        "category", "raised_at", "resolved_at"
    ):
        r = row(code)
        r["resolved"] += 1
        r["hours"].append((resolved - raised).total_seconds() / 3600)
    for code, n in (
        ds.filter(raised_at__lte=until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=until))
        .order_by()
        .values_list("category")
        .annotate(n=Count("id"))
    ):
        row(code)["open"] = n
    for code, n in (
        work_order.objects.filter(
            estate_id__in=estate_ids, created_at__lte=until, promised_by__lt=until
        )
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gt=until))
        .order_by()
        .values_list("category")
        .annotate(n=Count("id"))
    ):
        row(code)["overdue_work_orders"] = n
    out = [rows[k] for k in sorted(rows)]
    total = {
        "category": "", "label": str(_("Total")),
        **{k: sum(r[k] for r in out) for k in ("raised", "resolved", "open",
                                                "overdue_work_orders")},
        "hours": [h for r in out for h in r["hours"]],
    }  # fmt: skip
    for r in [*out, total]:
        hours = r.pop("hours")
        r["median_hours"] = round(median(hours), 1) if hours else None
        r["longest_hours"] = round(max(hours), 1) if hours else None
    return [*out, total] if out else []
