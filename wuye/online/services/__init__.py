"""Every write of online payments. Each public function is one transaction (or, where it
talks to a provider, commits before the call and records the answer after it)."""

from ._common import BANK, ONLINE, SystemActor
from .autodebit import (
    debit_batch_create,
    debit_batch_file,
    debit_failures,
    debit_return_import,
    mandate_cancel,
    mandate_create,
)
from .bank import (
    bank_transfer_post,
    party_by_reference,
    transfer_statement_finish,
    transfer_statement_import,
)
from .exceptions import (
    exception_credit,
    exception_refund,
    exception_write_off_approve,
    exception_write_off_request,
    exception_write_off_withdraw,
)
from .inbox import inbox_lag, inbox_post, inbox_rejected_purge, inbox_work, order_news
from .merchants import (
    merchant_account_create,
    merchant_for,
    merchant_route_set,
    sandbox_merchants_ensure,
)
from .notify import notification_receive, posting_mode
from .orders import (
    jsapi_params,
    order_close,
    order_create,
    order_finish,
    window_check,
    window_payment_code,
    window_qr,
)
from .settle import transaction_settle, transactions_settle
from .suspense import suspense_check
from .sweep import order_query, orders_sweep

__all__ = [
    "BANK",
    "ONLINE",
    "SystemActor",
    "bank_transfer_post",
    "debit_batch_create",
    "debit_batch_file",
    "debit_failures",
    "debit_return_import",
    "exception_credit",
    "exception_refund",
    "exception_write_off_approve",
    "exception_write_off_request",
    "exception_write_off_withdraw",
    "inbox_lag",
    "inbox_post",
    "inbox_rejected_purge",
    "inbox_work",
    "order_news",
    "jsapi_params",
    "mandate_cancel",
    "mandate_create",
    "merchant_account_create",
    "merchant_for",
    "merchant_route_set",
    "notification_receive",
    "order_close",
    "order_create",
    "order_finish",
    "order_query",
    "orders_sweep",
    "party_by_reference",
    "transfer_statement_finish",
    "transfer_statement_import",
    "posting_mode",
    "sandbox_merchants_ensure",
    "suspense_check",
    "transaction_settle",
    "transactions_settle",
    "window_check",
    "window_payment_code",
    "window_qr",
]
