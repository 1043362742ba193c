from datetime import date, time

import pytest
from django.utils import timezone

from wuye.collection.models import ArrearsCase
from wuye.notifications.models import ContactPolicy


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


@pytest.fixture
def open_policy(estate):
    """No quiet hours and no weekly cap, so a test is not at the mercy of the wall clock."""
    return ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(0, 0), weekly_cap=0
    )


@pytest.fixture
def collector(make_staff, estate):
    return make_staff("collector", estates=[estate], username="collector-1")


@pytest.fixture
def supervisor(make_staff, estate):
    return make_staff("supervisor", estates=[estate], username="supervisor-1")


@pytest.fixture
def case(owner):
    return ArrearsCase.objects.create(
        estate=owner.estate,
        party=owner,
        opened_on=timezone.localdate(),
        amount=500,
        oldest_due_date=date(2026, 1, 1),
    )
