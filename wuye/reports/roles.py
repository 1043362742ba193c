"""What each role may do with reports (see wuye.accounts.roles). Managers (supervisor,
finance) and the auditor read and export; a collector reads the dashboard of their estates;
only a supervisor sees debtors' phone numbers unmasked in the unpaid list."""

_VIEW = ["reports.view_reports"]
_EXPORT = ["reports.export_reports"]

ROLE_PERMISSIONS = {
    "finance": [*_VIEW, *_EXPORT],
    "supervisor": [*_VIEW, *_EXPORT, "reports.view_debtor_contacts"],
    "auditor": [*_VIEW, *_EXPORT],
    "collector": _VIEW,
}
