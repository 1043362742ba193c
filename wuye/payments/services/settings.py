"""The estate's window settings and prepayment offers (finance or a supervisor sets them)."""

from django.db import transaction
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, snapshot
from wuye.registry.models import Estate
from wuye.registry.services import _validated_save, require_estate, require_perm

from ..models import CashierSettings, PrepaymentOffer


@transaction.atomic
def cashier_settings_update(*, actor, estate: Estate, **fields) -> CashierSettings:
    require_perm(actor, "payments.change_cashiersettings")
    require_estate(actor, estate.pk)
    settings, __ = CashierSettings.objects.select_for_update().get_or_create(estate=estate)
    before = snapshot(settings)
    for name, value in fields.items():
        setattr(settings, name, value)
    _validated_save(settings)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=settings,
        before=before,
        after=snapshot(settings),
    )
    return settings


@transaction.atomic
def prepayment_offer_create(*, actor, estate: Estate, **fields) -> PrepaymentOffer:
    require_perm(actor, "payments.add_prepaymentoffer")
    require_estate(actor, estate.pk)
    offer = PrepaymentOffer(estate=estate, **fields)
    if offer.fee_item.estate_id != estate.pk:
        from wuye.core.errors import DomainError

        raise DomainError(_("the fee item belongs to another estate"), field="fee_item")
    _validated_save(offer)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=offer, after=snapshot(offer))
    return offer
