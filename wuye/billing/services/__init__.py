"""Every write of the billing app. Each function is one transaction and writes its audit row."""

from .charges import (
    charge_adhoc_create,
    charge_credit_note,
    charge_debit_note,
    charge_outstanding_recompute,
    charge_refresh,
    deposit_forfeit,
    deposit_refund,
    deposit_release_approve,
    deposit_release_reject,
    deposit_release_request,
    waiver_approve,
    waiver_reject,
    waiver_request,
)
from .late_fees import late_fee_assess, late_fees_assess_all
from .opening import OpeningResult, RowError, opening_balances_import
from .runs import (
    billing_period_close,
    billing_run_cancel,
    billing_run_create,
    billing_run_post,
    billing_run_preview,
    plan_estate,
    unit_fee_stop,
)

__all__ = [
    "OpeningResult",
    "RowError",
    "billing_period_close",
    "billing_run_cancel",
    "billing_run_create",
    "billing_run_post",
    "billing_run_preview",
    "charge_adhoc_create",
    "charge_credit_note",
    "charge_debit_note",
    "charge_outstanding_recompute",
    "charge_refresh",
    "deposit_forfeit",
    "deposit_refund",
    "deposit_release_approve",
    "deposit_release_reject",
    "deposit_release_request",
    "late_fee_assess",
    "late_fees_assess_all",
    "opening_balances_import",
    "plan_estate",
    "unit_fee_stop",
    "waiver_approve",
    "waiver_reject",
    "waiver_request",
]
