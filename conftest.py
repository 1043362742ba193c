"""Shared fixtures: estates, staff of each role, and the browser for Playwright tests."""

import os

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that
# thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["wuye.testing"]
