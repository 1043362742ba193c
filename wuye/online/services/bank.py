"""Bank transfers identified by the party's stable payment reference (printed on notices)."""

import re
from datetime import date

from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.payments.models import Payment
from wuye.payments.services import payment_take
from wuye.registry.models import Estate, Party

# registry.models.new_payment_ref: "WY" + 8 of 23456789ABCDEFGHJKMNPQRSTUVWXYZ
REFERENCE = re.compile(r"WY[2-9A-HJ-NP-Z]{8}")


def party_by_reference(text: str, *, estate: Estate | None = None) -> Party | None:
    """The party whose payment reference appears in a transfer's memo (spaces, dashes and
    lower case forgiven), or None."""
    squeezed = re.sub(r"[\s\-_/]", "", clean_text(text).upper())
    for token in REFERENCE.findall(squeezed):
        qs = Party.objects.select_related("estate").filter(payment_ref=token)
        if estate is not None:
            qs = qs.filter(estate=estate)
        found = qs.first()
        if found is not None:
            return found
    return None


def bank_transfer_post(
    *,
    actor,
    estate: Estate,
    memo: str,
    amount,
    bank_ref: str,
    payer_name: str = "",
    today: date | None = None,
) -> Payment:
    """Post a bank transfer to the party named by the payment reference in its memo: oldest
    charges first, the rest kept as prepayment. The bank's reference makes it idempotent."""
    if not (bank_ref or "").strip():
        raise DomainError("enter the bank's reference of the transfer", field="bank_ref")
    party = party_by_reference(memo, estate=estate)
    if party is None:
        raise DomainError(
            "no payment reference (WY + 8 characters) of this estate in the memo",
            field="memo",
            code="unmatched",
        )
    return payment_take(
        actor=actor,
        party=party,
        amount=amount,
        channel=Payment.Channel.TRANSFER,
        external_ref=bank_ref.strip()[:64],
        keep_change_as_prepayment=True,
        source=Payment.Source.BANK,
        payer_name=payer_name,
        note=clean_text(memo)[:255],
        today=today,
    )
