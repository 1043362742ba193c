from datetime import time

import pytest

from wuye.notifications.models import ContactPolicy

from .fakes import FakeAliyun, FakePush, FakeSmtp, FakeTencent, FakeWeChat


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Tasks run at once (django-tasks' ImmediateBackend), as the brief asks of tests."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def open_policy(estate):
    """No quiet hours and no weekly cap, so a test is not at the mercy of the wall clock."""
    return ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(0, 0), weekly_cap=0
    )


@pytest.fixture
def reachable_owner(owner):
    owner.wechat_openid = "oWX-openid-1"
    owner.email = "zhangwei@example.com"
    owner.mailing_address = "深圳市南山区华苑路1号 1-1-301"
    owner.preferred_channels = ["wechat", "sms", "letter"]
    owner.consents = {"sms": True, "wechat": True, "email": True}
    owner.save()
    return owner


@pytest.fixture
def aliyun(settings):
    with FakeAliyun() as fake:
        settings.WUYE_NOTIFY = {
            "backends": {"sms": "aliyun"},
            "aliyun": {
                "endpoint": fake.url + "/",
                "access_key_id": fake.key_id,
                "access_key_secret": fake.secret,
                "sign_name": "华苑物业",
                "templates": {"bill_notice": "SMS_100001", "reminder_friendly": "SMS_100002"},
            },
        }
        yield fake


@pytest.fixture
def tencent(settings):
    with FakeTencent() as fake:
        settings.WUYE_NOTIFY = {
            "backends": {"sms": "tencent"},
            "tencent": {
                "endpoint": fake.url + "/",
                "secret_id": fake.secret_id,
                "secret_key": fake.secret_key,
                "sdk_app_id": "1400006666",
                "sign_name": "华苑物业",
                "templates": {"bill_notice": {"id": "449739", "params": ["unit", "amount"]}},
            },
        }
        yield fake


@pytest.fixture
def wechat(settings):
    with FakeWeChat() as fake:
        settings.WUYE_NOTIFY = {
            "backends": {"wechat": "wechat"},
            "wechat": {
                "api_base": fake.url,
                "app_id": fake.app_id,
                "app_secret": fake.app_secret,
                "templates": {
                    "bill_notice": {
                        "id": "TPL-BILL",
                        "fields": {"thing1": "unit", "amount2": "amount", "time3": "due_date"},
                    }
                },
            },
        }
        yield fake


@pytest.fixture
def push(settings):
    with FakePush() as fake:
        settings.WUYE_NOTIFY = {
            "backends": {"app": "push"},
            "push": {"url": fake.url + "/push", "secret": fake.secret},
        }
        yield fake


@pytest.fixture
def smtp(settings):
    with FakeSmtp() as fake:
        settings.WUYE_NOTIFY = {
            "backends": {"email": "smtp"},
            "email": {"host": "127.0.0.1", "port": fake.port, "from_email": "wuye@example.com"},
        }
        yield fake
