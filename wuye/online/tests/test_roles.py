"""Every permission the online roles name exists, and cashiers may not work the
exception queue while finance may."""

import pytest
from django.contrib.auth.models import Permission

from wuye.online.roles import ROLE_PERMISSIONS as ONLINE

pytestmark = pytest.mark.django_db


def test_every_named_permission_exists():
    named = {p for perms in ONLINE.values() for p in perms}
    for perm in sorted(named):
        app_label, codename = perm.split(".")
        assert Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).exists(), perm


def test_finance_works_the_exception_queue_and_cashiers_do_not(make_staff, estate):
    assert make_staff("finance", estates=[estate]).has_perm("online.manage_online")
    assert not make_staff("cashier", estates=[estate]).has_perm("online.manage_online")
