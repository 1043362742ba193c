"""API permission classes (kept apart from api.py: DRF imports these while it loads)."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, reads included (view_*), as in the staff UI."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class ApiDocsPermission(permissions.BasePermission):
    """The API schema and its docs: for signed-in staff, unless `API_DOCS_PUBLIC` (on with
    DEBUG, i.e. the demo and a developer's machine). The schema lists every endpoint and
    field, which an attacker should not get for free in production (issue 12 §8)."""

    def has_permission(self, request, view) -> bool:
        from django.conf import settings

        if getattr(settings, "API_DOCS_PUBLIC", False):
            return True
        return bool(request.user and request.user.is_authenticated)
