"""Every permission the portal roles name exists; customer service works owners' requests."""

import pytest
from django.contrib.auth.models import Permission

from wuye.portal.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_every_named_permission_exists():
    for perm in sorted({p for perms in ROLE_PERMISSIONS.values() for p in perms}):
        app_label, codename = perm.split(".")
        assert Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).exists(), perm


def test_customer_service_answers_requests_and_auditors_only_read(make_staff, estate):
    assert make_staff("customer_service", estates=[estate]).has_perm("portal.change_ownerrequest")
    auditor = make_staff("auditor", estates=[estate])
    assert auditor.has_perm("portal.view_ownerrequest")
    assert not auditor.has_perm("portal.change_ownerrequest")
