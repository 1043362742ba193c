"""Who works the owners' requests raised in the portal (see wuye.accounts.roles)."""

_READ = ["portal.view_ownerrequest"]
_WORK = [*_READ, "portal.change_ownerrequest"]

ROLE_PERMISSIONS = {
    "customer_service": _WORK,
    "collector": _WORK,
    "supervisor": _WORK,
    "finance": _READ,
    "auditor": _READ,
}
