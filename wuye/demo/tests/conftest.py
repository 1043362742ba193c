"""The demo company is seeded once for the whole package (it takes a while), inside a
transaction rolled back after the package's last test; each test runs in a savepoint inside it
(pytest-django's `db`)."""

import pytest
from django.db import transaction
from django.test import override_settings

from wuye.audit.models import AuditEvent
from wuye.demo import seed

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(scope="package")
def seeded(django_db_setup, django_db_blocker):
    fast_hashing = override_settings(PASSWORD_HASHERS=[FAST_HASHER])  # as wuye.testing does
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        audit_before = AuditEvent.objects.count()
        report = seed.seed_all()
        audit_rows = AuditEvent.objects.count() - audit_before
        yield {"report": report, "audit_rows": audit_rows}
        transaction.set_rollback(True)
