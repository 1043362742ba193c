"""What each role may do with the registry (see wuye.accounts.roles).

Setup: a supervisor edits an estate's name, address, service hotline and company name;
finance (and a supervisor) sets the estate's collection bank account printed on notices,
a money setting."""

_READ = [
    "registry.view_estate",
    "registry.view_building",
    "registry.view_unit",
    "registry.view_party",
    "registry.view_unitparty",
    "registry.view_servicecontract",
    "registry.view_ownernote",
]
_WRITE_UNITS = [
    "registry.add_building",
    "registry.change_building",
    "registry.add_unit",
    "registry.change_unit",
    "registry.add_party",
    "registry.change_party",
    "registry.add_unitparty",
    "registry.change_unitparty",
]
_NOTES = ["registry.add_ownernote"]

ROLE_PERMISSIONS = {
    "cashier": _READ,
    "collector": [*_READ, *_NOTES, "registry.view_pii"],
    "customer_service": [
        *_READ,
        *_WRITE_UNITS,
        *_NOTES,
        "registry.view_pii",
        "registry.import_registry",
    ],
    "engineering": [*_READ, *_NOTES],
    "security": [*_READ, *_NOTES],
    "finance": [
        *_READ,
        *_WRITE_UNITS,
        "registry.import_registry",
        "registry.export_registry",
        "registry.add_servicecontract",
        "registry.change_servicecontract",
        "registry.view_pii",
        "registry.change_collection_account",
    ],
    "supervisor": [
        *_READ,
        *_WRITE_UNITS,
        *_NOTES,
        "registry.import_registry",
        "registry.export_registry",
        "registry.add_estate",
        "registry.change_estate",
        "registry.change_collection_account",
        "registry.add_servicecontract",
        "registry.change_servicecontract",
        "registry.view_pii",
    ],
    "auditor": [*_READ, "registry.access_all_estates"],
}
