"""What each role may do with collection (see wuye.accounts.roles).

Collectors work cases: log contacts, record reasons and promises, place holds, escalate.
Marking non-payment malicious, taking escalations, approving a legal stage, editing the
policy and exporting the (masked) arrears list are a supervisor's. Auditors read."""

_READ = [
    "collection.view_dunningpolicy",
    "collection.view_dunningstage",
    "collection.view_stageaction",
    "collection.view_callscript",
    "collection.view_arrearscase",
    "collection.view_hold",
    "collection.view_task",
    "collection.view_promisetopay",
    "collection.view_escalation",
    "collection.view_dunningrun",
    "collection.view_contactlog",
]
_WORK = [
    *_READ,
    "collection.add_contactlog",
    "collection.change_arrearscase",
    "collection.add_promisetopay",
    "collection.add_hold",
    "collection.change_task",
    "collection.add_escalation",
]

ROLE_PERMISSIONS = {
    "collector": _WORK,
    "customer_service": [*_READ, "collection.add_contactlog", "collection.add_hold"],
    "finance": [*_READ, "collection.run_dunning", "collection.export_arrears"],
    "supervisor": [
        *_WORK,
        "collection.change_hold",
        "collection.mark_malicious",
        "collection.work_escalations",
        "collection.approve_stage",
        "collection.export_arrears",
        "collection.change_dunningpolicy",
        "collection.run_dunning",
        "collection.add_callscript",
        "collection.change_callscript",
    ],
    "auditor": _READ,
}

# --- resolution paths (issue 15): plans, disputes and work orders, demands, legal cases -----
# Collectors draft plans, raise disputes, issue and deliver demands and propose legal cases;
# a supervisor approves plans and legal cases; the departments (engineering, customer service,
# security) see and close their own work orders (`services.disputes.can_close`).
_RESOLUTION_READ = [
    "collection.view_installmentplan",
    "collection.view_dispute",
    "collection.view_workorder",
    "collection.view_formaldemand",
    "collection.view_demandbatch",
    "collection.view_legalcase",
]
_RESOLUTION_WORK = [
    *_RESOLUTION_READ,
    "collection.add_installmentplan",
    "collection.change_installmentplan",
    "collection.add_dispute",
    "collection.change_dispute",
    "collection.add_workorder",
    "collection.add_formaldemand",
    "collection.change_formaldemand",
    "collection.add_legalcase",
]
ROLE_PERMISSIONS["collector"] = [*ROLE_PERMISSIONS["collector"], *_RESOLUTION_WORK]
ROLE_PERMISSIONS["supervisor"] = [
    *ROLE_PERMISSIONS["supervisor"],
    *_RESOLUTION_WORK,
    "collection.approve_installmentplan",
    "collection.approve_legalcase",
    "collection.change_legalcase",
    "collection.change_workorder",
]
ROLE_PERMISSIONS["customer_service"] = [
    *ROLE_PERMISSIONS["customer_service"],
    *_RESOLUTION_READ,
    "collection.add_dispute",
    "collection.add_workorder",
]
ROLE_PERMISSIONS["engineering"] = ["collection.view_dispute", "collection.view_workorder"]
ROLE_PERMISSIONS["security"] = ["collection.view_dispute", "collection.view_workorder"]
ROLE_PERMISSIONS["auditor"] = [*ROLE_PERMISSIONS["auditor"], *_RESOLUTION_READ]

# --- the workbench (issue 14 §5): a collector schedules his own call-backs and visits ---------
ROLE_PERMISSIONS["collector"] = [*ROLE_PERMISSIONS["collector"], "collection.add_task"]
ROLE_PERMISSIONS["supervisor"] = [*ROLE_PERMISSIONS["supervisor"], "collection.add_task"]
