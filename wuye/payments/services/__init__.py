"""Every write of the payments app. Each function is one transaction and writes its audit row."""

from .closing import day_sign_off
from .documents import receipt_print, settled_certificate
from .invoices import invoice_issue, invoice_red_note, invoice_request
from .payments import (
    PayAhead,
    payment_take,
    prepayment_apply,
    prepayment_auto_apply,
    prepayment_balance,
    prepayment_over_cap,
)
from .payouts import RefundPayout, refund_payout
from .reversals import (
    payment_refund,
    payment_void,
    reversal_approve,
    reversal_reject,
    reversal_request,
)
from .settings import cashier_settings_update, prepayment_offer_create, prepayment_offer_end
from .shifts import (
    ShiftVariance,
    open_shift_of,
    shift_close,
    shift_expected,
    shift_hand_over,
    shift_open,
)

__all__ = [
    "PayAhead",
    "cashier_settings_update",
    "day_sign_off",
    "invoice_issue",
    "invoice_red_note",
    "invoice_request",
    "open_shift_of",
    "RefundPayout",
    "payment_refund",
    "refund_payout",
    "payment_take",
    "payment_void",
    "prepayment_apply",
    "prepayment_auto_apply",
    "prepayment_balance",
    "prepayment_over_cap",
    "prepayment_offer_create",
    "prepayment_offer_end",
    "receipt_print",
    "reversal_approve",
    "reversal_reject",
    "reversal_request",
    "settled_certificate",
    "ShiftVariance",
    "shift_close",
    "shift_expected",
    "shift_hand_over",
    "shift_open",
]
