"""The roles of DESIGN.md §1 as Django groups with explicit permissions.

Each app lists what its roles may do in its own `roles.py` as `ROLE_PERMISSIONS`
({role: ["app_label.codename", ...]}); `sync_roles` merges them into groups after every
migrate. Business code asks `user.has_perm(...)`, never `is_superuser`.
"""

import importlib
import logging

from django.apps import apps
from django.contrib.auth.models import Group, Permission

from wuye.core.roles import ROLE_LABELS, ROLES  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)


def role_permissions() -> dict[str, set[str]]:
    """Merge every installed app's ROLE_PERMISSIONS."""
    merged: dict[str, set[str]] = {role: set() for role in ROLES}
    for config in apps.get_app_configs():
        if not config.name.startswith("wuye."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged.setdefault(role, set()).update(perms)
    return merged


def sync_roles() -> None:
    """Create the groups and set exactly the permissions the apps declare."""
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None:
                log.warning("role %s: unknown permission %s", role, perm)
                continue
            wanted.append(found)
        group.permissions.set(wanted)


def sync_roles_after_migrate(*, app_config, **kwargs) -> None:
    """post_migrate is sent once per app; sync after the last, when every permission exists."""
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if with_models and app_config is with_models[-1]:
        sync_roles()


def roles_of(user) -> list[str]:
    return sorted(g.name for g in user.groups.all()) if user.is_authenticated else []


# Staff administration (wuye.accounts.services): supervisors add staff, give roles and
# estates within their own, reset passwords, unlock and deactivate; auditors read who is who.
ROLE_PERMISSIONS = {
    "supervisor": ["auth.view_user", "auth.add_user", "auth.change_user"],
    "auditor": ["auth.view_user"],
}
