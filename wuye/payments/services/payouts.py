"""Paying out refunds (退款支付, issue 11 §6): a deposit refund approved in billing credits
refunds payable (Dr DEPOSITS, Cr 2241.03 其他应付款-待退款); the money reaches the owner here,
in cash from a cashier's shift or by bank transfer:

    Dr REFUNDS_PAYABLE (party)    amount
        Cr CASH (the shift's box) / BANK

Cash leaves the drawer of the cashier's open shift: `shift_expected` and the day's report
(营业日报) count it. A refund of prepayment or of a payment (`reversals`) is paid back at its
approval, from a shift or the channel, and needs no payout.

One payout per release (a UNIQUE constraint): the same payout asked again (a double click, a
retried API call) returns the one made, a different one is refused. Lock order (ADR 0010):
shift -> party -> the release -> counters; the party lock makes two payouts of one owner's
refunds wait for each other, so the second reads the first.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.billing.events import receivables_changed
from wuye.billing.models import DepositRelease
from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.services import Line, entry_post
from wuye.registry.services import require_estate, require_perm

from ..models import RefundPayout
from ._common import business_today, require_day_open, user_or_none
from .locks import lock_party, lock_shift
from .shifts import open_shift_of

ACCOUNTS = {RefundPayout.Channel.CASH: chart.CASH, RefundPayout.Channel.TRANSFER: chart.BANK}


def refund_payout(
    *, actor, release: DepositRelease, channel: str, external_ref: str = "", today=None
) -> RefundPayout:
    """Pay out an approved deposit refund (see the module docstring). Returns the payout; the
    same payout asked again returns the one already made."""
    try:
        return _refund_payout(
            actor=actor, release=release, channel=channel, external_ref=external_ref, today=today
        )
    except IntegrityError:
        # a concurrent payout of the same release committed first: answer with it
        done = RefundPayout.objects.filter(release_id=release.pk).first()
        if done is None:
            raise
        return _same(done, channel=channel, external_ref=external_ref)


def _same(done: RefundPayout, *, channel: str, external_ref: str) -> RefundPayout:
    if done.channel == channel and (channel == "cash" or done.external_ref == external_ref):
        return done
    raise DomainError(
        _("this refund was already paid out (%(method)s, %(amount)s on %(day)s)")
        % {"method": done.get_channel_display(), "amount": done.amount, "day": done.business_date},
        field="release",
        code="paid_out",
    )


@transaction.atomic
def _refund_payout(*, actor, release, channel, external_ref, today) -> RefundPayout:
    require_perm(actor, "payments.take_payment")
    require_estate(actor, release.estate_id)
    if channel not in RefundPayout.Channel.values:
        raise DomainError(
            _("a refund is paid out in cash or by bank transfer, not %(method)s")
            % {"method": repr(channel)},
            field="channel",
        )
    external_ref = (external_ref or "").strip()[:64]
    if channel == RefundPayout.Channel.TRANSFER and not external_ref:
        raise DomainError(_("enter the bank reference of the transfer"), field="external_ref")
    day = business_today(today)
    require_day_open(release.estate_id, day)
    shift = None
    if channel == RefundPayout.Channel.CASH:  # 1. shift: the cash leaves this drawer
        shift = lock_shift(open_shift_of(actor, release.estate_id))
        if shift is None or not shift.is_open:
            raise DomainError(_("open your shift before paying out cash"), field="shift")
    release = DepositRelease.objects.select_related("charge").get(pk=release.pk)
    party_id = release.charge.party_id
    lock_party(party_id)  # 2. party: payouts of this owner wait for each other
    release = DepositRelease.objects.select_for_update().select_related("charge").get(pk=release.pk)
    done = RefundPayout.objects.filter(release=release).first()
    if done is not None:
        return _same(done, channel=channel, external_ref=external_ref)
    if (release.action, release.status) != (
        DepositRelease.Action.REFUND,
        DepositRelease.Status.APPROVED,
    ):
        raise DomainError(
            _("only an approved deposit refund is paid out"), field="release", code="not_approved"
        )
    payout = RefundPayout.objects.create(
        estate_id=release.estate_id,
        party_id=party_id,
        release=release,
        amount=release.amount,
        channel=channel,
        external_ref=external_ref,
        shift=shift,
        business_date=day,
        paid_by=user_or_none(actor),
    )
    entry = entry_post(
        estate=release.estate_id,
        date=day,
        memo=f"押金退款支付 {release.charge.label}"[:200],
        lines=[
            Line(chart.REFUNDS_PAYABLE, debit=payout.amount, party_id=party_id),
            Line(ACCOUNTS[channel], credit=payout.amount, party_id=party_id),
        ],
        idempotency_key=f"refund-payout:{release.pk}",
        source_type="refund_payout",
        source_id=payout.pk,
        actor=actor,
    )
    RefundPayout.objects.filter(pk=payout.pk).update(entry_id=entry.pk)
    payout.entry_id = entry.pk
    receivables_changed(money_days=[(release.estate_id, day)])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.POST,
        subject=payout,
        summary=Summary(
            gettext_noop("deposit refund of %(amount)s paid out, voucher %(voucher)s"),
            amount=payout.amount,
            voucher=entry.voucher,
        ),
    )
    return payout
