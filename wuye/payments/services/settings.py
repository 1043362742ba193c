"""The estate's window settings and prepayment offers (finance or a supervisor sets them).

- Window settings (`CashierSettings`): small-change rounding (抹零, to the jiao or the yuan,
  recorded as a waiver when the cashier uses it), the prepayment cap in months of fees
  (paying ahead and the prepayment balance; empty: no cap), the receipt paper and its note.
- Pay-ahead offers (`PrepaymentOffer`): for paying a recurring fee at least `min_months`
  ahead, `free_months` more months free (12+1) and/or `discount_rate` off (N% off), within
  `valid_from`..`valid_until` (an early bird), usually not while in arrears. An offer already
  granted lives on in its waivers: an offer is never edited, it is ended (`is_active`
  False) and a new one made."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, changed, snapshot
from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate
from wuye.registry.services import _validated_save, require_estate, require_perm

from ..models import CashierSettings, PrepaymentOffer

SETTINGS_FIELDS = [
    "round_small_change",
    "round_unit",
    "prepayment_cap_months",
    "receipt_paper",
    "receipt_note",
]
MAX_CAP_MONTHS = 120


@transaction.atomic
def cashier_settings_update(*, actor, estate: Estate, **fields) -> CashierSettings:
    require_perm(actor, "payments.change_cashiersettings")
    require_estate(actor, estate.pk)
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError(
            _("unknown setting %(name)s") % {"name": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    cap = fields.get("prepayment_cap_months")
    if cap is not None and not 1 <= cap <= MAX_CAP_MONTHS:
        raise DomainError(
            _("the prepayment cap is 1 to %(max)s months, or empty for none")
            % {"max": MAX_CAP_MONTHS},
            field="prepayment_cap_months",
        )
    settings, __ = CashierSettings.objects.select_for_update().get_or_create(estate=estate)
    before = snapshot(settings)
    for name, value in fields.items():
        setattr(settings, name, value)
    _validated_save(settings)
    old, new = changed(before, snapshot(settings))
    if new:
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, subject=settings, before=old, after=new
        )
    return settings


@transaction.atomic
def prepayment_offer_create(
    *,
    actor,
    estate: Estate,
    fee_item: FeeItem,
    name: str,
    min_months: int,
    discount_rate: Decimal | str = Decimal("0"),
    free_months: int = 0,
    valid_from: date | None = None,
    valid_until: date | None = None,
    none_while_in_arrears: bool = True,
) -> PrepaymentOffer:
    require_perm(actor, "payments.add_prepaymentoffer")
    require_estate(actor, estate.pk)
    if fee_item.estate_id != estate.pk:
        raise DomainError(_("the fee item belongs to another estate"), field="fee_item")
    if not fee_item.is_recurring:
        raise DomainError(
            _("%(item)s is not a recurring fee: nothing to pay ahead") % {"item": fee_item.name},
            field="fee_item",
        )
    rate = Decimal(str(discount_rate or 0))
    if not Decimal("0") <= rate < 1:
        raise DomainError(
            _("the discount is a share from 0 to below 1 (0.05 means 5 percent)"),
            field="discount_rate",
        )
    if not rate and not free_months:
        raise DomainError(_("an offer gives months free, a discount, or both"), field="free_months")
    if min_months < 1 or min_months % fee_item.months:
        raise DomainError(
            _("%(item)s is billed every %(cycle)s month(s): pay at least a multiple of that")
            % {"item": fee_item.name, "cycle": fee_item.months},
            field="min_months",
        )
    if free_months % fee_item.months:
        raise DomainError(
            _("%(item)s is billed every %(cycle)s month(s): free months come in whole cycles")
            % {"item": fee_item.name, "cycle": fee_item.months},
            field="free_months",
        )
    if valid_from and valid_until and valid_until < valid_from:
        raise DomainError(_("the offer ends before it starts"), field="valid_until")
    offer = PrepaymentOffer(
        estate=estate,
        fee_item=fee_item,
        name=(name or "").strip(),
        min_months=min_months,
        discount_rate=rate,
        free_months=free_months,
        valid_from=valid_from,
        valid_until=valid_until,
        none_while_in_arrears=none_while_in_arrears,
    )
    _validated_save(offer)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=offer, after=snapshot(offer))
    return offer


@transaction.atomic
def prepayment_offer_end(*, actor, offer: PrepaymentOffer) -> PrepaymentOffer:
    """Stop an offer; what it granted stays granted."""
    require_perm(actor, "payments.change_prepaymentoffer")
    require_estate(actor, offer.estate_id)
    offer = PrepaymentOffer.objects.select_for_update().get(pk=offer.pk)
    if offer.is_active:
        offer.is_active = False
        offer.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=offer,
            before={"is_active": True},
            after={"is_active": False},
        )
    return offer
