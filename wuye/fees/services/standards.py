"""Fee items and the lifecycle of fee standards: draft -> approved -> published -> withdrawn."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.ledger import chart
from wuye.ledger.services import account_ensure
from wuye.registry.models import Estate, ServiceContract

from .. import calculations
from ..models import FeeItem, FeeStandard
from ..notice import notice_pdf
from ._common import (
    AuditEvent,
    audit_record,
    changed,
    require_estate,
    require_perm,
    snapshot,
    validated_save,
)

# Fields of an item that may not change once it has standards: they give the rates meaning
# (code also names the item's revenue account).
_FROZEN_ONCE_PRICED = ("code", "basis", "meter_unit", "treatment")


def _label(item: FeeItem) -> str:
    return f"{item.name} ({item.code})"


def _ensure_revenue_account(item: FeeItem) -> None:
    """A revenue item gets its own revenue sub-account (6001.<code>) in the ledger."""
    if item.treatment != FeeItem.Treatment.REVENUE:
        return
    account_ensure(
        code=chart.revenue_account(item.code),
        name=f"{chart.ACCOUNTS[chart.REVENUE][0]}-{item.name}",
        kind="income",
    )


@transaction.atomic
def fee_item_create(
    *, actor, estate: Estate, code: str, name: str, kind: str, basis: str, **fields
) -> FeeItem:
    """A new fee item of `estate`; a revenue item's ledger account is ensured with it."""
    require_perm(actor, "fees.add_feeitem")
    require_estate(actor, estate.pk)
    code = clean_text(code).upper().replace(" ", "_")
    item = FeeItem(
        estate=estate, code=code, name=clean_text(name), kind=kind, basis=basis, **fields
    )
    if item.basis == FeeItem.Basis.METERED and not item.meter_unit:
        raise DomainError(
            _("%(item)s: a metered item needs a meter unit") % {"item": _label(item)},
            field="meter_unit",
        )
    if FeeItem.objects.filter(estate=estate, code=code).exists():
        raise DomainError(
            _("%(estate)s already has a fee item with code %(code)s")
            % {"estate": estate, "code": code},
            field="code",
        )
    validated_save(item, prefix=f"{_label(item)}: ")
    _ensure_revenue_account(item)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=item, after=snapshot(item))
    return item


@transaction.atomic
def fee_item_update(*, actor, item: FeeItem, **changes) -> FeeItem:
    """Change an item. Code, basis, meter unit and treatment are fixed once it has standards."""
    require_perm(actor, "fees.change_feeitem")
    require_estate(actor, item.estate_id)
    if item.standards.exists():
        for name in _FROZEN_ONCE_PRICED:
            if name in changes and changes[name] != getattr(item, name):
                raise DomainError(
                    _(
                        "%(item)s: %(field)s cannot change once the item has standards; "
                        "create a new item instead"
                    )
                    % {"item": _label(item), "field": name},
                    field=name,
                )
    if "code" in changes:
        changes["code"] = clean_text(changes["code"]).upper()
    before = snapshot(item)
    for name, value in changes.items():
        setattr(item, name, value)
    validated_save(item, prefix=f"{_label(item)}: ")
    if "treatment" in changes or "code" in changes:
        _ensure_revenue_account(item)
    old, new = changed(before, snapshot(item))
    if new:
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, subject=item, before=old, after=new
        )
    return item


def _check_rate(item: FeeItem, rate) -> Decimal:
    try:
        rate = Decimal(str(rate).strip())
    except InvalidOperation as exc:
        raise DomainError(
            _("%(item)s: the rate %(rate)s is not a number")
            % {"item": _label(item), "rate": repr(rate)},
            field="rate",
        ) from exc
    if not rate.is_finite():
        raise DomainError(
            _("%(item)s: the rate is not a number") % {"item": _label(item)}, field="rate"
        )
    problem = calculations.rate_problem(basis=item.basis, rate=rate, recurring=item.is_recurring)
    if problem:
        raise DomainError(
            _("%(item)s: %(problem)s") % {"item": _label(item), "problem": problem}, field="rate"
        )
    return rate


def _check_vacancy_rate(item: FeeItem, vacancy_rate) -> Decimal | None:
    if vacancy_rate in (None, ""):
        return None
    try:
        share = Decimal(str(vacancy_rate))
    except InvalidOperation as exc:
        raise DomainError(
            _("%(item)s: the vacancy share is not a number") % {"item": _label(item)},
            field="vacancy_rate",
        ) from exc
    if not (0 <= share <= 1):
        raise DomainError(
            _("%(item)s: the vacancy share must be between 0 and 1 (e.g. 0.7 for 70%%)")
            % {"item": _label(item)},
            field="vacancy_rate",
        )
    if not item.is_recurring:
        raise DomainError(
            _("%(item)s: a vacancy share applies only to recurring fees") % {"item": _label(item)},
            field="vacancy_rate",
        )
    return share


def _contract_pricing_mode(estate_id: int, on: date) -> str:
    contract = (
        ServiceContract.objects.filter(estate_id=estate_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("-start_date")
        .first()
    ) or ServiceContract.objects.filter(estate_id=estate_id).order_by("-start_date").first()
    return contract.pricing_mode if contract else ""


@transaction.atomic
def standard_create(
    *,
    actor,
    fee_item: FeeItem,
    rate: Decimal | str,
    effective_from: date,
    unit_type: str = "",
    filing_ref: str = "",
    service_content: str = "",
    complaint_phone: str = "",
    vacancy_rate: Decimal | str | None = None,
) -> FeeStandard:
    """A draft standard: the next version of `fee_item` for `unit_type` (blank = all types).

    The contract's pricing mode (包干制/酬金制) in force on `effective_from` is copied in, and the
    complaint phone defaults to the estate's hotline."""
    require_perm(actor, "fees.add_feestandard")
    require_estate(actor, fee_item.estate_id)
    # Lock the item so that two drafts created at once get different versions.
    fee_item = FeeItem.objects.select_for_update().get(pk=fee_item.pk)
    if not fee_item.is_active:
        raise DomainError(
            _("%(item)s: the item is inactive") % {"item": _label(fee_item)}, field="fee_item"
        )
    rate = _check_rate(fee_item, rate)
    share = _check_vacancy_rate(fee_item, vacancy_rate)
    latest = FeeStandard.objects.filter(
        estate_id=fee_item.estate_id, fee_item=fee_item, unit_type=unit_type
    ).aggregate(v=Max("version"))["v"]
    standard = FeeStandard(
        estate_id=fee_item.estate_id,
        fee_item=fee_item,
        unit_type=unit_type,
        version=(latest or 0) + 1,
        rate=rate,
        effective_from=effective_from,
        filing_ref=clean_text(filing_ref),
        pricing_mode=_contract_pricing_mode(fee_item.estate_id, effective_from),
        service_content=service_content.strip(),
        complaint_phone=clean_text(complaint_phone) or fee_item.estate.hotline,
        vacancy_rate=share,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    validated_save(standard, prefix=f"{_label(fee_item)}: ")
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, subject=standard, after=snapshot(standard)
    )
    return standard


def _locked(standard: FeeStandard) -> FeeStandard:
    return (
        FeeStandard.objects.select_for_update()
        .select_related("fee_item", "estate")
        .get(pk=standard.pk)
    )


@transaction.atomic
def standard_update(*, actor, standard: FeeStandard, **changes) -> FeeStandard:
    """Edit a draft (rate, dates, filing ref, content, phone, vacancy share)."""
    require_perm(actor, "fees.change_feestandard")
    require_estate(actor, standard.estate_id)
    standard = _locked(standard)
    item = standard.fee_item
    if standard.status != FeeStandard.Status.DRAFT:
        raise DomainError(
            _("%(standard)s: only a draft can be edited; create a new version instead")
            % {"standard": standard},
            field="status",
        )
    allowed = {
        "rate",
        "effective_from",
        "filing_ref",
        "service_content",
        "complaint_phone",
        "vacancy_rate",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(
            _("%(standard)s: cannot change %(fields)s")
            % {"standard": standard, "fields": ", ".join(sorted(unknown))}
        )
    if "rate" in changes:
        changes["rate"] = _check_rate(item, changes["rate"])
    if "vacancy_rate" in changes:
        changes["vacancy_rate"] = _check_vacancy_rate(item, changes["vacancy_rate"])
    before = snapshot(standard)
    for name, value in changes.items():
        setattr(standard, name, value)
    if "effective_from" in changes:
        standard.pricing_mode = _contract_pricing_mode(standard.estate_id, standard.effective_from)
    validated_save(standard, prefix=f"{_label(item)}: ")
    old, new = changed(before, snapshot(standard))
    if new:
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, subject=standard, before=old, after=new
        )
    return standard


@transaction.atomic
def standard_approve(*, actor, standard: FeeStandard) -> FeeStandard:
    """A supervisor approves a draft (permission fees.approve_feestandard)."""
    require_perm(actor, "fees.approve_feestandard")
    require_estate(actor, standard.estate_id)
    standard = _locked(standard)
    if standard.status != FeeStandard.Status.DRAFT:
        raise DomainError(
            _("%(standard)s: only a draft can be approved (it is %(status)s)")
            % {"standard": standard, "status": standard.get_status_display()},
            field="status",
        )
    _check_rate(standard.fee_item, standard.rate)
    standard.status = FeeStandard.Status.APPROVED
    standard.approved_by = actor
    standard.approved_at = timezone.now()
    standard.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=standard,
        summary=Summary(
            gettext_noop("approved %(standard)s: %(rate)s"), standard=standard, rate=standard.rate
        ),
        after={"status": standard.status},
    )
    return standard


def standards_in_force_on(estate_id: int, on: date) -> list[FeeStandard]:
    """Every published standard of an estate covering day `on`, by item code and type."""
    return list(
        FeeStandard.objects.filter(
            estate_id=estate_id,
            status=FeeStandard.Status.PUBLISHED,
            effective_from__lte=on,
        )
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .select_related("fee_item")
        .order_by("fee_item__code", "unit_type")
    )


def _check_notice(standard: FeeStandard, previous: FeeStandard | None, today: date) -> None:
    """A price increase applies only after its 公示: no earlier than the estate's notice period
    (`Estate.fee_notice_days`, default 30) after the day it is published, so never before
    publication. A decrease, or an estate's first standard (the price of its service
    contract), may apply at once."""
    if previous is None or standard.rate <= previous.rate:
        return
    days = standard.estate.fee_notice_days
    earliest = today + timedelta(days=days)
    if standard.effective_from < earliest:
        raise DomainError(
            _(
                "%(item)s: a price increase (%(old)s to %(new)s) applies no earlier than "
                "%(days)s days after its publication: published on %(today)s, it can take "
                "effect on %(earliest)s at the earliest (this one is from %(this_from)s)"
            )
            % {
                "item": _label(standard.fee_item),
                "old": previous.rate.normalize(),
                "new": standard.rate.normalize(),
                "days": days,
                "today": today,
                "earliest": earliest,
                "this_from": standard.effective_from,
            },
            field="effective_from",
            code="notice_period",
        )


@transaction.atomic
def standard_publish(*, actor, standard: FeeStandard, today: date | None = None) -> FeeStandard:
    """Publish an approved standard: it ends the previous published version of the same item
    and unit type the day before it takes effect, and the public notice PDF is generated.

    Refused when a published version of the same item and type starts on or after this one's
    effective date (versions never overlap and always move forward), and for a price increase
    taking effect within the estate's notice period after `today`, the day of publication
    (`_check_notice`)."""
    require_perm(actor, "fees.publish_feestandard")
    require_estate(actor, standard.estate_id)
    standard = _locked(standard)
    item = standard.fee_item
    if standard.status != FeeStandard.Status.APPROVED:
        raise DomainError(
            _("%(standard)s: only an approved standard can be published (it is %(status)s)")
            % {"standard": standard, "status": standard.get_status_display()},
            field="status",
        )
    _check_rate(item, standard.rate)
    published = list(
        FeeStandard.objects.select_for_update()
        .filter(
            estate_id=standard.estate_id,
            fee_item=item,
            unit_type=standard.unit_type,
            status=FeeStandard.Status.PUBLISHED,
        )
        .order_by("effective_from")
    )
    clash = [p for p in published if p.effective_from >= standard.effective_from]
    if clash:
        raise DomainError(
            _(
                "%(item)s: version %(version)s is already published from "
                "%(published_from)s; a new version must take effect after that "
                "(this one is from %(this_from)s)"
            )
            % {
                "item": _label(item),
                "version": clash[0].version,
                "published_from": clash[0].effective_from,
                "this_from": standard.effective_from,
            },
            field="effective_from",
            code="overlap",
        )
    today = today or timezone.localdate()
    _check_notice(standard, published[-1] if published else None, today)
    day_before = standard.effective_from - timedelta(days=1)
    for previous in published:
        if previous.effective_to is None or previous.effective_to > day_before:
            before = snapshot(previous, ["effective_to"])
            previous.effective_to = day_before
            previous.save(update_fields=["effective_to"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                subject=previous,
                summary=Summary(gettext_noop("ended by %(standard)s"), standard=standard),
                before=before,
                after=snapshot(previous, ["effective_to"]),
            )
    standard.status = FeeStandard.Status.PUBLISHED
    standard.published_by = actor
    standard.published_at = timezone.now()
    in_force = [
        s
        for s in standards_in_force_on(standard.estate_id, standard.effective_from)
        if not (s.fee_item_id == standard.fee_item_id and s.unit_type == standard.unit_type)
    ]
    in_force = sorted([*in_force, standard], key=lambda s: (s.fee_item.code, s.unit_type))
    data = notice_pdf(standard=standard, in_force=in_force, published_on=today)
    name = (
        f"{standard.estate.code}-{item.code}-{standard.unit_type or 'all'}-v{standard.version}.pdf"
    )
    standard.notice_pdf.save(name, ContentFile(data), save=False)
    standard.save(update_fields=["status", "published_by", "published_at", "notice_pdf"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=standard,
        summary=Summary(
            gettext_noop("published %(standard)s from %(day)s"),
            standard=standard,
            day=standard.effective_from,
        ),
        after={"status": standard.status, "notice_pdf": standard.notice_pdf.name},
    )
    return standard


@transaction.atomic
def standard_withdraw(*, actor, standard: FeeStandard, reason: str) -> FeeStandard:
    """Withdraw a standard that should not be used. A withdrawn published version hands its
    span back to the version it had ended, so the item stays priced without a gap."""
    require_perm(actor, "fees.publish_feestandard")
    require_estate(actor, standard.estate_id)
    reason = clean_text(reason)
    if not reason:
        raise DomainError(
            _("%(standard)s: say why it is withdrawn") % {"standard": standard}, field="reason"
        )
    standard = _locked(standard)
    if standard.status == FeeStandard.Status.WITHDRAWN:
        return standard
    was_published = standard.status == FeeStandard.Status.PUBLISHED
    before = snapshot(standard, ["status", "effective_to"])
    standard.status = FeeStandard.Status.WITHDRAWN
    standard.withdrawn_by = actor
    standard.withdrawn_at = timezone.now()
    standard.save(update_fields=["status", "withdrawn_by", "withdrawn_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=standard,
        summary=Summary(gettext_noop("withdrawn: %(reason)s"), reason=reason),
        before=before,
        after=snapshot(standard, ["status", "effective_to"]),
    )
    if was_published:
        previous = (
            FeeStandard.objects.select_for_update()
            .filter(
                estate_id=standard.estate_id,
                fee_item_id=standard.fee_item_id,
                unit_type=standard.unit_type,
                status=FeeStandard.Status.PUBLISHED,
                effective_to=standard.effective_from - timedelta(days=1),
            )
            .first()
        )
        if previous is not None:
            old = snapshot(previous, ["effective_to"])
            previous.effective_to = standard.effective_to
            previous.save(update_fields=["effective_to"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                subject=previous,
                summary=Summary(
                    gettext_noop("in force again after %(standard)s was withdrawn"),
                    standard=standard,
                ),
                before=old,
                after=snapshot(previous, ["effective_to"]),
            )
    return standard
