"""What each role may do with online payments (see wuye.accounts.roles).

Cashiers take payment codes and show QR codes at the window (payments.take_payment) and read
orders; finance manages merchant accounts, the exception queue, auto-debit and bank
statements; supervisors too; collectors and customer service read orders and failed debits;
auditors read all.

Setup: merchant accounts, which fee item each collects, and their test against the provider
are finance's (and a supervisor's): they decide where owners' money goes. Cashiers sign an
owner up for auto-debit at the window (with the signed form's scan); suspending and revoking
a mandate is finance's."""

_READ = [
    "online.view_paymentorder",
    "online.view_paymentexception",
    "online.view_inboxnotification",
    "online.view_merchantaccount",
    "online.view_debitmandate",
    "online.view_debitbatch",
    "online.view_debititem",
    "online.view_bankfilelayout",
    "online.view_transferstatement",
    "online.view_transferline",
]
_MANAGE = [
    *_READ,
    "online.manage_online",
    "online.add_merchantaccount",
    "online.change_merchantaccount",
    "online.add_debitmandate",
    "online.change_debitmandate",
    "online.add_debitbatch",
    "online.change_debitbatch",
    "online.add_bankfilelayout",
    "online.change_bankfilelayout",
    "online.add_transferstatement",
]

ROLE_PERMISSIONS = {
    "cashier": ["online.view_paymentorder", "online.view_debitmandate", "online.add_debitmandate"],
    "collector": ["online.view_paymentorder", "online.view_debititem", "online.view_debitmandate"],
    "customer_service": ["online.view_paymentorder", "online.view_debitmandate"],
    "finance": _MANAGE,
    # a write-off of suspense money: finance asks, a supervisor approves (two people)
    "supervisor": [*_MANAGE, "online.approve_write_off"],
    "auditor": _READ,
}
