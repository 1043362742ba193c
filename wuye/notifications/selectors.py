"""Reads of notifications: the outbox for staff (estate-scoped), campaign targets and counts."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from wuye.core.money import money
from wuye.core.normalize import as_id
from wuye.registry.selectors import scope

from .models import Campaign, Message, MessageTemplate


def message_search(
    user,
    *,
    status: str = "",
    channel: str = "",
    purpose: str = "",
    party: str = "",
    estate_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    campaign_id: int | None = None,
) -> QuerySet[Message]:
    """The outbox as `user` may see it, filtered. `party` matches a name, a payment reference
    or a party id."""
    qs = scope(Message.objects.select_related("party", "estate"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if purpose:
        qs = qs.filter(purpose=purpose)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    party = (party or "").strip()
    if party:
        match = Q(party__name__icontains=party) | Q(party__payment_ref__iexact=party)
        if (party_id := as_id(party)) is not None:
            match |= Q(party_id=party_id)
        qs = qs.filter(match)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        qs = qs.filter(created_at__lte=datetime.combine(date_to, time.max, tz))
    return qs.order_by("-created_at", "-id")


def template_list(*, code: str = "", language: str = "", active_only: bool = False):
    qs = MessageTemplate.objects.all()
    if code:
        qs = qs.filter(code=code)
    if language:
        qs = qs.filter(language=language)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("code", "channel", "language", "-version")


@dataclass
class NoticeTarget:
    """One party to tell about a period's charges: their units, what they owe, by when."""

    party_id: int
    period: str
    units: list[str] = field(default_factory=list)
    amount: Decimal = Decimal("0.00")
    due_date: date | None = None

    def context(self) -> dict[str, Any]:
        return {
            "unit": "、".join(self.units),
            "period": self.period,
            "amount": money(self.amount),
            "due_date": self.due_date,
        }


def charge_rows(*, estate_id: int, period: str) -> list[dict[str, Any]]:
    """The period's open charges of the estate as rows {party_id, unit, outstanding, due_date},
    from `wuye.billing` (`Charge`: estate, party, unit, period, outstanding, due_date)."""
    from wuye.billing.models import Charge

    return list(
        Charge.objects.filter(
            estate_id=estate_id, period=period, status=Charge.Status.OPEN, outstanding__gt=0
        )
        .order_by("party_id", "id")
        .values("party_id", "unit__number", "outstanding", "due_date")
    )


def campaign_targets(*, estate_id: int, period: str) -> list[NoticeTarget]:
    """The parties of the estate with charges open in `period`, each with the sum they owe
    and the earliest due date, ordered by party."""
    targets: dict[int, NoticeTarget] = {}
    for row in charge_rows(estate_id=estate_id, period=period):
        target = targets.setdefault(
            row["party_id"], NoticeTarget(party_id=row["party_id"], period=period)
        )
        unit = row.get("unit__number")
        if unit and unit not in target.units:
            target.units.append(unit)
        target.amount += row["outstanding"]
        due = row.get("due_date")
        if due and (target.due_date is None or due < target.due_date):
            target.due_date = due
    return [targets[k] for k in sorted(targets)]


def campaign_preview(*, estate_id: int, period: str) -> dict[str, Any]:
    """How a campaign would go if started now: parties, total owed and planned channels."""
    from wuye.registry.models import Party

    from .models import Purpose
    from .services import channel_plan

    targets = campaign_targets(estate_id=estate_id, period=period)
    parties = Party.objects.select_related("estate").in_bulk([t.party_id for t in targets])
    by_channel: dict[str, int] = defaultdict(int)
    total = Decimal("0.00")
    for target in targets:
        total += target.amount
        plan = channel_plan(parties[target.party_id], Purpose.BILL_NOTICE, values=target.context())
        by_channel[plan[0] if plan else "none"] += 1
    return {"parties": len(targets), "amount": money(total), "by_channel": dict(by_channel)}


def campaign_outbox_counts(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Live counts of the campaign's messages: {channel: {status: n}}."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Message.objects.filter(campaign=campaign)
        .values("channel", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "status")
    )
    for row in rows:
        counts[row["channel"]][row["status"]] = row["n"]
    return dict(counts)


def letters_waiting(messages: QuerySet) -> QuerySet:
    """Letters in the print queue: handed to the letter channel, not yet printed, and not
    printed by the app that queued them (`Message.printed_apart`, a formal demand's PDF)."""
    return messages.filter(
        channel="letter", status="sent", letter_batch__isnull=True, printed_apart=False
    )
