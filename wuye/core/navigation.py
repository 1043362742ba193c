"""The staff navigation, in sections as the office works: registry, fees, billing, the window,
collection (催收: the arrears list, cases, policies, call scripts and the resolution pages),
messages, finance, administration (设置: staff, estates and their collection accounts, the
window's money rules, the contact policy, merchant accounts, the audit log). Each entry names
the permission that shows it, so the menu follows the user's role; an entry whose page is not
installed is skipped."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: str | None = None


SECTIONS: list[tuple[str, list[NavItem]]] = [
    (
        _("Registry"),
        [
            NavItem(_("Units"), "registry:unit_list", "registry.view_unit"),
            NavItem(_("Owners"), "registry:party_list", "registry.view_party"),
            NavItem(_("Estates"), "registry:estate_list", "registry.view_estate"),
            NavItem(_("Import"), "registry:import", "registry.import_registry"),
        ],
    ),
    (
        _("Fees"),
        [
            NavItem(_("Fee items"), "fees:item_list", "fees.view_feeitem"),
            NavItem(_("Fee standards"), "fees:standard_list", "fees.view_feestandard"),
            NavItem(_("Vacancy discounts"), "fees:vacancy_list", "fees.view_vacancydiscount"),
            NavItem(_("Meters"), "fees:meter_list", "fees.view_meter"),
            NavItem(_("Meter readings"), "fees:reading_list", "fees.view_meterreading"),
            NavItem(_("Enter a reading"), "fees:reading_entry", "fees.add_meterreading"),
            NavItem(_("Shared meters"), "fees:apportionment_list", "fees.view_sharedapportionment"),
        ],
    ),
    (
        _("Billing"),
        [
            NavItem(_("Billing runs"), "billing:run_list", "billing.view_billingrun"),
            NavItem(_("Charges"), "billing:charge_list", "billing.view_charge"),
            NavItem(_("New ad hoc charge"), "billing:charge_new", "billing.add_adhoc_charge"),
            NavItem(_("Waivers"), "billing:waiver_list", "billing.view_waiver"),
            NavItem(_("Late fees"), "billing:late_fees", "billing.view_charge"),
            NavItem(_("Deposit refunds"), "billing:deposit_list", "billing.view_depositrelease"),
            NavItem(_("Fee stops"), "billing:fee_stops", "billing.view_feestop"),
            NavItem(_("Billing periods"), "billing:periods", "billing.view_billingperiod"),
            NavItem(_("Opening balances"), "billing:opening_import", "billing.import_opening"),
        ],
    ),
    (
        _("Cashier"),
        [
            NavItem(_("Cashier window"), "payments:window", "payments.take_payment"),
            NavItem(_("Payments"), "payments:payment_list", "payments.view_payment"),
            NavItem(_("Shifts"), "payments:shift_list", "payments.view_cashiershift"),
            NavItem(_("Daily report"), "payments:day_report", "payments.view_dayclose"),
            NavItem(_("Approvals"), "payments:reversal_queue", "payments.approve_reversal"),
            NavItem(_("Refunds to pay out"), "payments:payout_list", "payments.take_payment"),
            NavItem(_("Invoice requests"), "payments:invoice_queue", "payments.issue_invoice"),
            NavItem(_("Payment code / QR at the window"), "online:window", "payments.take_payment"),
            NavItem(_("Bank transfers"), "online:transfer_post", "payments.take_payment"),
        ],
    ),
    (
        _("Online"),
        [
            NavItem(_("Payment orders"), "online:order_list", "online.view_paymentorder"),
            NavItem(
                _("Payment exceptions"), "online:exception_list", "online.view_paymentexception"
            ),
            NavItem(_("Auto-debit batches"), "online:batch_list", "online.view_debitbatch"),
            NavItem(_("Auto-debit mandates"), "online:mandate_list", "online.view_debitmandate"),
            NavItem(_("Owner requests"), "portal:staff_requests", "portal.view_ownerrequest"),
        ],
    ),
    (
        _("Collection"),
        [
            NavItem(_("My workbench"), "workbench:home", "collection.view_task"),
            NavItem(_("Escalation queue"), "workbench:escalations", "collection.work_escalations"),
            NavItem(_("Arrears list"), "collection:arrears", "collection.view_arrearscase"),
            NavItem(_("Arrears cases"), "collection:case_list", "collection.view_arrearscase"),
            NavItem(
                _("Dunning policies"), "collection:policy_list", "collection.view_dunningpolicy"
            ),
            NavItem(_("Call scripts"), "collection:script_list", "collection.view_callscript"),
            NavItem(
                _("Call scripts for training"),
                "collection:scripts_training",
                "collection.view_callscript",
            ),
            NavItem(
                _("Installment plans"), "resolution:plan_list", "collection.view_installmentplan"
            ),
            NavItem(_("Service disputes"), "resolution:dispute_list", "collection.view_dispute"),
            NavItem(_("Work orders"), "resolution:work_order_list", "collection.view_workorder"),
            NavItem(_("Formal demands"), "resolution:demand_list", "collection.view_formaldemand"),
            NavItem(_("Legal cases"), "resolution:legal_list", "collection.view_legalcase"),
            NavItem(
                _("Limitation periods"), "resolution:limitation", "collection.view_arrearscase"
            ),
        ],
    ),
    (
        _("Messages"),
        [
            NavItem(_("Outbox"), "notifications:outbox", "notifications.view_message"),
            NavItem(
                _("Templates"), "notifications:template_list", "notifications.view_messagetemplate"
            ),
            NavItem(
                _("Bill notice campaigns"), "notifications:campaigns", "notifications.view_campaign"
            ),
            NavItem(_("Letters"), "notifications:letters", "notifications.view_letterbatch"),
            NavItem(
                _("Owners' consents"),
                "notifications:consent_list",
                "notifications.view_channelconsent",
            ),
        ],
    ),
    (
        _("Reports"),
        [
            NavItem(_("Collection dashboard"), "reports:dashboard", "reports.view_reports"),
            NavItem(_("Report tables"), "reports:tables", "reports.view_reports"),
        ],
    ),
    (
        _("Finance"),
        [
            NavItem(_("Trial balance"), "ledger:trial_balance", "ledger.view_journalentry"),
            NavItem(_("Journal"), "ledger:journal", "ledger.view_journalentry"),
            NavItem(_("Period close"), "ledger:periods", "ledger.view_periodclose"),
        ],
    ),
    (
        _("Administration"),
        [
            NavItem(_("Staff"), "staff:list", "auth.view_user"),
            NavItem(
                _("Estates and collection accounts"), "registry:estate_list", "registry.view_estate"
            ),
            NavItem(
                _("Window settings and pay-ahead offers"),
                "payments:settings",
                "payments.view_cashiersettings",
            ),
            NavItem(
                _("Contact policy"),
                "notifications:contact_policy",
                "notifications.view_contactpolicy",
            ),
            NavItem(_("Merchant accounts"), "online:merchant_list", "online.view_merchantaccount"),
            NavItem(_("Audit log"), "audit:list", "audit.view_auditevent"),
            NavItem(_("Scheduled jobs"), "scheduler:job_list", "scheduler.view_jobrun"),
        ],
    ),
]
