"""What each role may do with the general ledger (see wuye.accounts.roles). Nobody posts by
hand: entries come from billing, payments and collection services."""

_READ = ["ledger.view_account", "ledger.view_journalentry", "ledger.view_posting"]

ROLE_PERMISSIONS = {
    "finance": [*_READ, "ledger.export_vouchers"],
    "supervisor": [*_READ, "ledger.export_vouchers"],
    "auditor": _READ,
}
