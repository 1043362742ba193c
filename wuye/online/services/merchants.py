"""Merchant accounts and which fee item is collected through which."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate
from wuye.registry.services import require_estate, require_perm

from ..models import MerchantAccount, MerchantRoute, Provider


@transaction.atomic
def merchant_account_create(
    *,
    actor,
    estate: Estate,
    provider: str,
    code: str,
    name: str,
    mode: str = MerchantAccount.Mode.LIVE,
    is_default: bool = False,
) -> MerchantAccount:
    require_perm(actor, "online.add_merchantaccount")
    require_estate(actor, estate.pk)
    if provider not in Provider.values:
        raise DomainError(
            _("unknown provider %(provider)s") % {"provider": f"{provider!r}"}, field="provider"
        )
    if is_default:
        MerchantAccount.objects.filter(estate=estate, provider=provider, is_default=True).update(
            is_default=False
        )
    account = MerchantAccount.objects.create(
        estate=estate, provider=provider, code=code, name=name, mode=mode, is_default=is_default
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=account)
    return account


@transaction.atomic
def merchant_route_set(
    *, actor, fee_item: FeeItem, provider: str, account: MerchantAccount | None
) -> MerchantRoute | None:
    """Collect `fee_item` through `account` (None: back to the estate's default)."""
    require_perm(actor, "online.change_merchantaccount")
    require_estate(actor, fee_item.estate_id)
    MerchantRoute.objects.filter(fee_item=fee_item, provider=provider).delete()
    if account is None:
        return None
    if account.estate_id != fee_item.estate_id or account.provider != provider:
        raise DomainError(_("the account belongs to another estate or provider"), field="account")
    route = MerchantRoute.objects.create(fee_item=fee_item, provider=provider, account=account)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=account,
        summary=Summary(
            gettext_noop("%(item)s collected through %(account)s"),
            item=fee_item.name,
            account=account.code,
        ),
    )
    return route


def merchant_for(fee_item_id: int, estate_id: int, provider: str) -> MerchantAccount | None:
    """The account a fee item is collected through: its route, else the estate's default."""
    route = (
        MerchantRoute.objects.select_related("account")
        .filter(fee_item_id=fee_item_id, provider=provider, account__is_active=True)
        .first()
    )
    if route is not None:
        return route.account
    return MerchantAccount.objects.filter(
        estate_id=estate_id, provider=provider, is_default=True, is_active=True
    ).first()


@transaction.atomic
def sandbox_merchants_ensure(*, estate: Estate) -> list[MerchantAccount]:
    """The demo's merchant accounts: a sandbox WeChat Pay and Alipay account for `estate`,
    default for their provider unless the estate has a default already. Idempotent."""
    accounts = []
    for provider in Provider.values:
        account, created = MerchantAccount.objects.get_or_create(
            code=f"sandbox-{estate.code.lower()}-{provider}",
            defaults={
                "estate": estate,
                "provider": provider,
                "name": f"{estate.name} {Provider(provider).label} (sandbox)",
                "mode": MerchantAccount.Mode.SANDBOX,
                "is_default": not MerchantAccount.objects.filter(
                    estate=estate, provider=provider, is_default=True
                ).exists(),
            },
        )
        if created:
            audit_record(actor=None, action=AuditEvent.Action.CREATE, subject=account)
        accounts.append(account)
    return accounts
