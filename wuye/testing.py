"""Pytest fixtures shared by every app's tests (loaded from the root conftest.py)."""

import os
import shutil
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

DEMO_PASSWORD = "wuye-test-2026"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = True
    # Tests assert the source (English) strings unless they ask for a language: a request
    # without Accept-Language gets English here, zh-hans in production. Browser tests send
    # zh-CN like the staff's browsers do.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def make_staff(db):
    """make_staff("cashier", estates=[estate]) -> a user in that role and those estates."""
    from wuye.registry.models import StaffProfile

    def make(role: str, *, estates=(), username: str | None = None):
        user = get_user_model().objects.create_user(
            username=username or f"{role}-{get_user_model().objects.count() + 1}",
            password=DEMO_PASSWORD,
        )
        user.groups.add(Group.objects.get(name=role))
        profile = StaffProfile.objects.create(user=user)
        profile.estates.set(estates)
        return get_user_model().objects.get(pk=user.pk)  # fresh permission cache

    return make


@pytest.fixture
def estate(db):
    from wuye.registry.models import Estate, ServiceContract

    est = Estate.objects.create(
        code="HY", name="华苑小区", address="深圳市南山区华苑路1号", hotline="0755-86001234"
    )
    ServiceContract.objects.create(
        estate=est,
        number="HY-2026-01",
        start_date=date(2026, 1, 1),
        has_late_fee_clause=True,
        late_fee_daily_rate=Decimal("0.0003"),
        late_fee_grace_days=15,
    )
    return est


@pytest.fixture
def other_estate(db):
    from wuye.registry.models import Estate

    return Estate.objects.create(code="LJ", name="丽景花园", hotline="0755-86005678")


@pytest.fixture
def building(estate):
    from wuye.registry.models import Building

    return Building.objects.create(estate=estate, code="1", name="1栋")


@pytest.fixture
def unit(building):
    from wuye.registry.models import Unit

    return Unit.objects.create(
        estate=building.estate,
        building=building,
        number="1-1-301",
        floor=3,
        gross_area=Decimal("89.50"),
        handover_date=date(2025, 6, 1),
        fee_start_date=date(2025, 7, 1),
    )


@pytest.fixture
def owner(unit):
    from wuye.registry.models import Party, UnitParty

    party = Party.objects.create(
        estate=unit.estate, name="张伟", mobile="13812345678", id_number="44030119800101123X"
    )
    UnitParty.objects.create(
        estate=unit.estate, unit=unit, party=party, start_date=date(2025, 6, 1), is_payer=True
    )
    return party


# --- browser ---------------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright. Missing browser: skip loudly, or fail in CI."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        message = (
            f"chromium not found at {CHROMIUM}: browser tests need it "
            "(make sysdeps, or apt-get install chromium fonts-noto-cjk)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def browser_login(page, live_server):
    """browser_login(user) -> page logged in as that user (password DEMO_PASSWORD)."""

    def login(user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return login


def race(count: int, send) -> list:
    """Run `send(i)` in `count` threads released at the same moment (a barrier), each on its
    own database connection (closed after), and return their results; any exception fails
    the test with all of them. For PostgreSQL tests of what racing copies of a request do."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            results.append(send(i))
        except Exception as exc:  # collected, the assertion shows it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results
