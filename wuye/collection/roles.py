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
