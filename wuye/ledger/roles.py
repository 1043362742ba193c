"""What each role may do with the general ledger (see wuye.accounts.roles). Nobody posts by
hand: entries come from billing, payments and collection services."""

_READ = [
    "ledger.view_account",
    "ledger.view_journalentry",
    "ledger.view_posting",
    "ledger.view_periodclose",
]

# The monthly close (结账) is finance's, and a supervisor's.
ROLE_PERMISSIONS = {
    "finance": [*_READ, "ledger.export_vouchers", "ledger.close_period"],
    "supervisor": [*_READ, "ledger.export_vouchers", "ledger.close_period"],
    "auditor": _READ,
}
