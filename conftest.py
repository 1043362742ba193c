"""Shared test setup. Fixtures live in wuye/testing.py."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that
# thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The tests (and the `wuye` processes they start) encrypt ID numbers with the demo's key derived
# from SECRET_KEY; production refuses to start without FIELD_ENCRYPTION_KEY (settings.py).
os.environ.setdefault("WUYE_DEMO", "1")

# Database-backed properties are slow per example; no per-example deadline, fewer examples.
settings.register_profile(
    "wuye",
    deadline=None,
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "40")),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
settings.load_profile("wuye")

pytest_plugins = ["wuye.testing"]


@pytest.fixture(autouse=True)
def _forget_merchant_accounts():
    """A test's rolled-back merchant accounts must not outlive it in the notify endpoints'
    per-process cache (production forgets them on save, or within a second). Here, not in
    wuye/testing.py, which every app's tests import: only the harness may know of online."""
    from wuye.online.services.notify import accounts_forget

    accounts_forget()
