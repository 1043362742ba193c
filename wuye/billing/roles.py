"""What each role may do with billing (see wuye.accounts.roles)."""

_VIEW = [
    "billing.view_charge",
    "billing.view_billingrun",
    "billing.view_billingperiod",
    "billing.view_waiver",
    "billing.view_creditnote",
    "billing.view_latefeeassessment",
    "billing.view_depositrelease",
    "billing.view_prepaymentmovement",
    "billing.view_paidupto",
    "billing.view_feestop",
    "billing.view_statement",
    "billing.view_revenuerecognition",
]
_FINANCE = [
    "billing.add_billingrun",
    "billing.change_billingrun",
    "billing.add_adhoc_charge",
    "billing.add_waiver",
    "billing.add_creditnote",
    "billing.add_depositrelease",
    "billing.import_opening",
    "billing.add_charge",
    "billing.stop_fee",
    "billing.recognise_revenue",
]

ROLE_PERMISSIONS = {
    "cashier": _VIEW,
    "collector": _VIEW,
    "customer_service": [*_VIEW, "billing.add_waiver"],
    "finance": [*_VIEW, *_FINANCE],
    "supervisor": [
        *_VIEW,
        *_FINANCE,
        "billing.approve_waiver",
        "billing.cancel_billingrun",
        "billing.approve_depositrelease",
        "billing.change_billingperiod",
    ],
    "auditor": _VIEW,
}
