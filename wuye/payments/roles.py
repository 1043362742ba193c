"""What each role may do at the cashier window (see wuye.accounts.roles).

Setup (`/payments/settings/`): the window's money rules -- small-change rounding (抹零), the
prepayment cap, pay-ahead offers (12+1, early bird, N% off) -- are finance's, and a
supervisor's; cashiers and auditors read them."""

_READ = [
    "payments.view_payment",
    "payments.view_receipt",
    "payments.view_allocation",
    "payments.view_cashiershift",
    "payments.view_paymentreversal",
    "payments.view_invoicerequest",
    "payments.view_dayclose",
    "payments.view_cashiersettings",
    "payments.view_prepaymentoffer",
    "payments.view_refundpayout",
]
_WINDOW = [
    "payments.take_payment",
    "payments.add_payment",
    "payments.add_cashiershift",
    "payments.add_paymentreversal",
    "payments.add_invoicerequest",
    "payments.add_refundpayout",
]
_SETTINGS = [
    "payments.change_cashiersettings",
    "payments.add_prepaymentoffer",
    "payments.change_prepaymentoffer",
]

ROLE_PERMISSIONS = {
    "cashier": [*_READ, *_WINDOW],
    "collector": ["payments.view_payment", "payments.view_receipt"],
    "customer_service": ["payments.view_payment", "payments.view_receipt"],
    "finance": [
        *_READ,
        *_WINDOW,
        *_SETTINGS,
        "payments.review_day",
        "payments.issue_invoice",
        "payments.change_invoicerequest",
        "payments.close_any_shift",
    ],
    "supervisor": [
        *_READ,
        *_WINDOW,
        *_SETTINGS,
        "payments.approve_reversal",
        "payments.review_day",
        "payments.close_any_shift",
        "payments.issue_invoice",
    ],
    "auditor": _READ,
}
