"""Reads of fee items, standards, vacancy discounts and meter readings.

`standard_in_force`, `vacancy_spans`, `recurring_items` and `billable_consumption` are the
contract billing codes against."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.registry.selectors import scope

from .models import (
    ApportionmentLine,
    FeeItem,
    FeeStandard,
    Meter,
    MeterReading,
    SharedApportionment,
    VacancyDiscount,
)


def _item(fee_item: FeeItem | int) -> FeeItem:
    return fee_item if isinstance(fee_item, FeeItem) else FeeItem.objects.get(pk=fee_item)


def standard_in_force(
    *, estate_id: int, fee_item: FeeItem | int, unit_type: str, on: date
) -> FeeStandard:
    """The published standard of `fee_item` for `unit_type` that covers day `on`.

    A standard for the unit's own type wins over one for every type (blank `unit_type`).
    Raises DomainError naming the item, type and date, and why there is none: nothing
    published, only a draft/approved version, not yet effective, or ended."""
    item = _item(fee_item)
    types = [unit_type, ""] if unit_type else [""]
    candidates = list(
        FeeStandard.objects.filter(estate_id=estate_id, fee_item=item, unit_type__in=types)
    )
    published = [s for s in candidates if s.status == FeeStandard.Status.PUBLISHED]
    for wanted_type in types:
        for std in sorted(published, key=lambda s: -s.version):
            if std.unit_type == wanted_type and std.covers(on):
                return std
    what = f"{item.name} ({item.code})"
    if unit_type:
        what = _("%(item)s for %(type)s units") % {"item": what, "type": unit_type}
    if published:
        later = [s.effective_from for s in published if s.effective_from > on]
        ended = [s.effective_to for s in published if s.effective_to and s.effective_to < on]
        if later and not ended:
            reason = _("the published standard is not yet effective (from %(date)s)") % {
                "date": min(later)
            }
        elif ended:
            reason = _("the published standard ended on %(date)s") % {"date": max(ended)}
        else:  # pragma: no cover - published spans are contiguous
            reason = _("no published standard covers that day")
    else:
        pending = sorted(
            {
                s.get_status_display().lower()
                for s in candidates
                if s.status
                in (
                    FeeStandard.Status.DRAFT,
                    FeeStandard.Status.APPROVED,
                )
            }
        )
        if pending:
            reason = _("only a %(statuses)s standard exists; it must be published") % {
                "statuses": " / ".join(pending)
            }
        else:
            reason = _("no fee standard has been published")
    raise DomainError(
        _("%(what)s on %(day)s: %(reason)s") % {"what": what, "day": on, "reason": reason},
        field="fee_standard",
        code="no_standard",
    )


def vacancy_spans(
    unit_ids: Iterable[int], start: date, end: date
) -> dict[int, list[tuple[date, date]]]:
    """Approved vacancy discounts of `unit_ids` overlapping [start, end] (both inclusive),
    clipped to the period: {unit_id: [(from, to), ...]} in date order. Units without one
    are absent."""
    qs = (
        VacancyDiscount.objects.filter(
            unit_id__in=list(unit_ids),
            status=VacancyDiscount.Status.APPROVED,
            start_date__lte=end,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .order_by("unit_id", "start_date")
        .values_list("unit_id", "start_date", "end_date")
    )
    spans: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for unit_id, s, e in qs:
        spans[unit_id].append((max(s, start), min(e or end, end)))
    return dict(spans)


def recurring_items(estate_id: int) -> list[FeeItem]:
    """Active items billed every cycle by area or per unit (what a bill run charges)."""
    return list(
        FeeItem.objects.filter(
            estate_id=estate_id, is_active=True, basis__in=FeeItem.RECURRING_BASES
        ).order_by("code")
    )


def billable_consumption(*, estate_id: int, fee_item: FeeItem | int, until: date) -> list[dict]:
    """Metered consumption not yet billed, read on or before `until`, for units of one item:
    approved/ok unit-meter readings with a consumption, and lines of approved apportionments.

    Each row: {"source": "reading"|"apportionment", "id", "unit_id", "read_on", "consumption"},
    and an apportionment's lines their "apportionment_id" (billed together, they add up).
    Billing marks the rows billed (`MeterReading.billed` / `ApportionmentLine.billed`) in the
    same transaction as the charge it raises."""
    item_id = fee_item.pk if isinstance(fee_item, FeeItem) else fee_item
    rows: list[dict] = []
    readings = (
        MeterReading.objects.filter(
            estate_id=estate_id,
            meter__fee_item_id=item_id,
            meter__kind=Meter.Kind.UNIT,
            status__in=MeterReading.BILLABLE,
            consumption__isnull=False,
            billed=False,
            read_on__lte=until,
        )
        .order_by("meter__unit_id", "read_on", "id")
        .values_list("id", "meter__unit_id", "read_on", "consumption")
    )
    for pk, unit_id, read_on, consumption in readings:
        rows.append(
            {
                "source": "reading",
                "id": pk,
                "unit_id": unit_id,
                "read_on": read_on,
                "consumption": consumption,
            }
        )
    lines = (
        ApportionmentLine.objects.filter(
            estate_id=estate_id,
            apportionment__reading__meter__fee_item_id=item_id,
            apportionment__status=SharedApportionment.Status.APPROVED,
            apportionment__reading__read_on__lte=until,
            billed=False,
        )
        .order_by("unit_id", "apportionment__reading__read_on", "id")
        .values_list(
            "id", "unit_id", "apportionment__reading__read_on", "consumption", "apportionment_id"
        )
    )
    for pk, unit_id, read_on, consumption, apportionment_id in lines:
        rows.append(
            {
                "source": "apportionment",
                "id": pk,
                "unit_id": unit_id,
                "read_on": read_on,
                "consumption": consumption,
                "apportionment_id": apportionment_id,
            }
        )
    return rows


# --- staff lists (estate-scoped) ---------------------------------------------------------------


def fee_items_for(user, *, estate_id: int | None = None) -> QuerySet[FeeItem]:
    qs = scope(FeeItem.objects.select_related("estate"), user)
    return qs.filter(estate_id=estate_id) if estate_id else qs


def standards_for(user, *, estate_id: int | None = None) -> QuerySet[FeeStandard]:
    qs = scope(FeeStandard.objects.select_related("estate", "fee_item"), user)
    return qs.filter(estate_id=estate_id) if estate_id else qs


def vacancies_for(
    user, *, estate_id: int | None = None, status: str = ""
) -> QuerySet[VacancyDiscount]:
    qs = scope(VacancyDiscount.objects.select_related("estate", "unit"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    return qs.filter(status=status) if status else qs


def readings_for(user, *, estate_id: int | None = None, status: str = "") -> QuerySet[MeterReading]:
    qs = scope(MeterReading.objects.select_related("meter", "meter__unit", "estate"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    return qs.filter(status=status) if status else qs


def meters_for(user, *, estate_id: int | None = None) -> QuerySet[Meter]:
    qs = scope(Meter.objects.select_related("unit", "fee_item", "estate"), user)
    return qs.filter(estate_id=estate_id) if estate_id else qs


def apportionments_for(user, *, estate_id: int | None = None) -> QuerySet[SharedApportionment]:
    qs = scope(
        SharedApportionment.objects.select_related("reading", "reading__meter", "estate"), user
    )
    return qs.filter(estate_id=estate_id) if estate_id else qs
