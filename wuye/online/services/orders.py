"""Payment orders: choosing charges, placing the order with the provider, closing it, and the
window's payment-code (付款碼) and counter QR payments.

The order is saved (committed) before the provider is called, and the provider is never
called while a row is locked (STYLE.md habit 3)."""

import logging
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.money import ZERO
from wuye.payments.services import open_shift_of
from wuye.registry.models import Party
from wuye.registry.services import require_estate, require_perm

from ..conf import absolute, pay_settings
from ..models import PaymentOrder, PaymentOrderCharge, Provider
from ..providers import ProviderError, client_for
from .merchants import merchant_for

log = logging.getLogger(__name__)

# Errors after which a payment code's charge may or may not have gone through: never close
# the order on these without asking. WeChat Pay v3 SYSTEM_ERROR (v2: SYSTEMERROR),
# BANKERROR, any 5xx; Alipay's 20000 (its sub codes isp./aop.unknow-error, ACQ.SYSTEM_ERROR);
# no answer at all.
UNKNOWN_OUTCOME = {
    "unreachable",
    "provider_error",
    "SYSTEM_ERROR",
    "SYSTEMERROR",
    "BANKERROR",
    "20000",
    "ACQ.SYSTEM_ERROR",
    "isp.unknow-error",
    "aop.unknow-error",
}


def _outcome_unknown(exc: ProviderError) -> bool:
    code = str(exc.code or "")
    return code in UNKNOWN_OUTCOME or (code.isdigit() and int(code) >= 500)


KINDS = {
    Provider.WECHAT: {"native", "jsapi", "micropay"},
    Provider.ALIPAY: {"wap", "native", "micropay"},
}


def _order_number(estate_code: str, now: datetime) -> str:
    """`HY260310142501` + 8 random hex: unique, at most 32 characters of [A-Z0-9]."""
    prefix = "".join(ch for ch in estate_code.upper() if ch.isalnum())[:6] or "WY"
    return f"{prefix}{timezone.localtime(now):%y%m%d%H%M%S}{secrets.token_hex(4).upper()}"


def _chosen_charges(party: Party, charge_ids: list[int], *, online: bool) -> list[Charge]:
    ids = list(dict.fromkeys(int(i) for i in charge_ids))
    if not ids:
        raise DomainError(_("choose at least one charge to pay"), field="charges")
    found = {
        c.pk: c
        for c in Charge.objects.select_related("fee_item", "unit").filter(pk__in=ids, party=party)
    }
    charges = []
    for charge_id in ids:
        charge = found.get(charge_id)
        if charge is None:
            raise DomainError(
                _("charge %(id)s is not one of yours") % {"id": charge_id}, field="charges"
            )
        if charge.status != Charge.Status.OPEN or charge.outstanding <= 0:
            raise DomainError(
                _("%(label)s is already settled") % {"label": charge.label}, field="charges"
            )
        if online and not charge.fee_item.online_payable:
            raise DomainError(
                _("%(item_name)s cannot be paid online; please pay at the service centre")
                % {"item_name": charge.fee_item.name},
                field="charges",
            )
        charges.append(charge)
    return charges


def _description(party: Party, charges: list[Charge]) -> str:
    items = "、".join(dict.fromkeys(c.fee_item.name for c in charges))
    units = "、".join(dict.fromkeys(c.unit.number for c in charges))
    return f"{party.estate.name} {units} {items}"[:127]


@transaction.atomic
def _order_save(
    *,
    party: Party,
    charges: list[Charge],
    provider: str,
    kind: str,
    source: str,
    now: datetime,
    cashier=None,
    shift=None,
    return_url: str = "",
) -> PaymentOrder:
    merchants = {merchant_for(c.fee_item_id, c.estate_id, provider) for c in charges}
    if None in merchants:
        raise DomainError(
            _("this estate does not collect by %(provider)s")
            % {"provider": Provider(provider).label},
            field="provider",
        )
    if len(merchants) > 1:
        groups = ", ".join(sorted(m.name for m in merchants))
        raise DomainError(
            _(
                "these charges are collected through different accounts (%(groups)s); "
                "pay them separately"
            )
            % {"groups": groups},
            field="charges",
            code="several_merchants",
        )
    merchant = merchants.pop()
    amount = sum((c.outstanding for c in charges), ZERO)
    order = PaymentOrder.objects.create(
        out_trade_no=_order_number(party.estate.code, now),
        estate_id=party.estate_id,
        party=party,
        merchant=merchant,
        provider=provider,
        kind=kind,
        source=source,
        amount=amount,
        description=_description(party, charges),
        expires_at=now + timedelta(minutes=int(pay_settings()["order_minutes"])),
        cashier=cashier,
        shift=shift,
        return_url=return_url[:300],
    )
    PaymentOrderCharge.objects.bulk_create(
        [PaymentOrderCharge(order=order, charge=c, amount=c.outstanding) for c in charges]
    )
    audit_record(
        actor=cashier,
        action=AuditEvent.Action.CREATE,
        subject=order,
        summary=Summary(
            gettext_noop("online order of %(amount)s (%(n)s charges)"),
            amount=amount,
            n=len(charges),
        ),
    )
    return order


def _reuse(
    party: Party,
    charges: list[Charge],
    provider: str,
    kind: str,
    now: datetime,
    *,
    source: str,
    shift=None,
):
    """An owner who taps "pay" twice gets the same live order for the same charges. Only an
    order of the same source and shift: a counter QR must never be the owner's portal order
    (or another shift's), or its money would miss the cashier's shift."""
    wanted = sorted(c.pk for c in charges)
    recent = PaymentOrder.objects.filter(
        party=party,
        provider=provider,
        kind=kind,
        source=source,
        shift=shift,
        status=PaymentOrder.Status.CREATED,
        start_error="",
        expires_at__gt=now + timedelta(minutes=2),
    ).prefetch_related("lines")
    for order in recent:
        if sorted(line.charge_id for line in order.lines.all()) == wanted and order.amount == sum(
            (c.outstanding for c in charges), ZERO
        ):
            return order
    return None


def order_create(
    *,
    party: Party,
    charge_ids: list[int],
    provider: str,
    kind: str,
    openid: str = "",
    client_ip: str = "",
    return_url: str = "",
    source: str = PaymentOrder.Source.PORTAL,
    cashier=None,
    shift=None,
    now: datetime | None = None,
) -> PaymentOrder:
    """An order for the party's chosen open charges, placed with the provider: the owner then
    scans its QR code, opens its pay page, or pays in WeChat. Refused when the charges are
    not the party's, not open, not payable online, or collected through different merchant
    accounts. A provider that cannot be reached closes the order with the reason."""
    if provider not in KINDS or kind not in KINDS[provider]:
        raise DomainError(
            _("%(provider)s cannot pay by %(kind)s") % {"provider": provider, "kind": kind},
            field="kind",
        )
    if kind == "jsapi" and not openid:
        raise DomainError(_("paying inside WeChat needs the payer's openid"), field="openid")
    now = now or timezone.now()
    charges = _chosen_charges(party, charge_ids, online=source == PaymentOrder.Source.PORTAL)
    if kind != "micropay" and (
        found := _reuse(party, charges, provider, kind, now, source=source, shift=shift)
    ):
        return found
    order = _order_save(
        party=party,
        charges=charges,
        provider=provider,
        kind=kind,
        source=source,
        now=now,
        cashier=cashier,
        shift=shift,
        return_url=return_url,
    )
    if kind == "micropay":
        return order
    try:
        client = client_for(order.merchant)
        start = client.start(
            kind=kind,
            out_trade_no=order.out_trade_no,
            description=order.description,
            amount=order.amount,
            expires_at=timezone.localtime(order.expires_at),
            notify_url=absolute(f"/pay/notify/{provider}"),
            openid=openid,
            client_ip=client_ip,
            return_url=return_url,
        )
    except ProviderError as exc:
        log.warning("order %s could not be placed: %s", order.out_trade_no, exc)
        PaymentOrder.objects.filter(pk=order.pk, status="created").update(
            status=PaymentOrder.Status.CLOSED, start_error=str(exc)[:255], closed_at=timezone.now()
        )
        order.refresh_from_db()
        return order
    PaymentOrder.objects.filter(pk=order.pk).update(
        code_url=start.code_url[:500], pay_url=start.pay_url, prepay_id=start.prepay_id[:64]
    )
    order.code_url, order.pay_url, order.prepay_id = start.code_url, start.pay_url, start.prepay_id
    order.jsapi = start.jsapi
    return order


def order_close(*, order: PaymentOrder, now: datetime | None = None) -> PaymentOrder:
    """The owner gave up: close the order at the provider, then here. Money the provider took
    meanwhile is settled as usual (the provider says so when asked)."""
    from .settle import transaction_settle

    if order.status != PaymentOrder.Status.CREATED:
        return order
    client = client_for(order.merchant)
    try:
        if not order.start_error:
            client.close(out_trade_no=order.out_trade_no)
    except ProviderError as exc:
        tx = client.query(out_trade_no=order.out_trade_no)
        if tx is not None and tx.paid:
            transaction_settle(tx=tx, verified_by=None)
            order.refresh_from_db()
            return order
        raise DomainError(
            _("the provider would not close the order: %(exc)s") % {"exc": exc}
        ) from exc
    return order_finish(order=order, status=PaymentOrder.Status.CLOSED, now=now)


@transaction.atomic
def order_finish(*, order: PaymentOrder, status: str, now: datetime | None = None) -> PaymentOrder:
    """created -> closed or expired (any other state stays as it is)."""
    locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
    if status not in PaymentOrder.TRANSITIONS[locked.status]:
        return locked
    locked.status = status
    locked.closed_at = now or timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        subject=locked,
        summary=Summary(
            gettext_noop("order %(status)s"),
            words=["status"],
            status=PaymentOrder.Status(status).label,
        ),
    )
    return locked


# --- at the window ---------------------------------------------------------------------------


def _window_shift(actor, party: Party):
    require_perm(actor, "payments.take_payment")
    require_estate(actor, party.estate_id)
    shift = open_shift_of(actor, party.estate_id)
    if shift is None:
        raise DomainError(_("open your shift before taking payments"), field="shift")
    return shift


def window_payment_code(
    *,
    actor,
    party: Party,
    charge_ids: list[int],
    provider: str,
    auth_code: str,
    now: datetime | None = None,
) -> PaymentOrder:
    """Charge the owner's WeChat or Alipay payment code (付款碼) scanned at the window: the
    payment lands in the cashier's open shift with its receipt. An owner who must still
    confirm on the phone, or a provider that gave no clear answer, leaves the order awaiting
    payment; the cashier checks it again. Only a clear refusal closes it."""
    from .settle import transaction_settle

    auth_code = "".join(ch for ch in (auth_code or "") if ch.isdigit())
    if not 16 <= len(auth_code) <= 24:
        raise DomainError(_("scan the payment code again (16 to 24 digits)"), field="auth_code")
    shift = _window_shift(actor, party)
    order = order_create(
        party=party,
        charge_ids=charge_ids,
        provider=provider,
        kind="micropay",
        source=PaymentOrder.Source.WINDOW,
        cashier=actor,
        shift=shift,
        now=now,
    )
    client = client_for(order.merchant)
    try:
        start = client.micropay(
            out_trade_no=order.out_trade_no,
            description=order.description,
            amount=order.amount,
            auth_code=auth_code,
            store=order.estate.code,
        )
    except ProviderError as exc:
        if not _outcome_unknown(exc):
            order_finish(order=order, status=PaymentOrder.Status.CLOSED)
            PaymentOrder.objects.filter(pk=order.pk).update(start_error=str(exc)[:255])
            raise DomainError(
                _("the payment code was refused: %(exc)s") % {"exc": exc}, field="auth_code"
            ) from exc
        # No answer, or the provider's own error: the owner's money may have been taken.
        # Ask; unless it says paid, the order stays open for the cashier's "check again"
        # and the sweep, which closes it at the provider when its time is up.
        log.warning("payment code of order %s: no clear answer (%s)", order.out_trade_no, exc)
        try:
            tx = client.query(out_trade_no=order.out_trade_no)
        except ProviderError:
            tx = None
        if tx is not None and tx.paid:
            transaction_settle(tx=tx, verified_by="query")
    else:
        if start.transaction is not None and start.transaction.paid:
            transaction_settle(tx=start.transaction, verified_by=None)
    order.refresh_from_db()
    return order


def window_qr(
    *, actor, party: Party, charge_ids: list[int], provider: str, now: datetime | None = None
) -> PaymentOrder:
    """A QR code for the counter screen (Native); paid, it lands in the cashier's shift."""
    shift = _window_shift(actor, party)
    return order_create(
        party=party,
        charge_ids=charge_ids,
        provider=provider,
        kind="native",
        source=PaymentOrder.Source.WINDOW,
        cashier=actor,
        shift=shift,
        now=now,
    )


def window_check(*, actor, order: PaymentOrder) -> PaymentOrder:
    """Ask the provider about a window order now (the owner is still at the counter)."""
    from .sweep import order_query

    require_perm(actor, "payments.take_payment")
    require_estate(actor, order.estate_id)
    return order_query(order=order)


def jsapi_params(order: PaymentOrder) -> dict[str, str]:
    """Fresh signed parameters for paying an open JSAPI order inside WeChat."""
    if order.kind != "jsapi" or not order.prepay_id or not order.is_open:
        return {}
    return client_for(order.merchant).jsapi_params(order.prepay_id)
