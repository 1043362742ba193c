"""Shared test setup. Fixtures live in wuye/testing.py."""

import os

from hypothesis import HealthCheck, settings

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that
# thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
