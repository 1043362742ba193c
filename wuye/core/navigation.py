"""The staff navigation. Apps add their entries here; each entry names the permission that
shows it, so the menu follows the user's role."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: str | None = None
    section: str = ""


NAVIGATION: list[NavItem] = [
    NavItem(_("Dashboard"), "home", None, "overview"),
    NavItem(_("Units"), "registry:unit_list", "registry.view_unit", "registry"),
    NavItem(_("Owners"), "registry:party_list", "registry.view_party", "registry"),
    NavItem(_("Estates"), "registry:estate_list", "registry.view_estate", "registry"),
    NavItem(_("Import"), "registry:import", "registry.import_registry", "registry"),
    NavItem(_("Audit log"), "audit:list", "audit.view_auditevent", "admin"),
]
