"""A request stopped by the database's time limit answers a friendly 503 (a page in the
user's language, JSON under /api/), and web processes get the short limits."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow_urls(settings):
    settings.ROOT_URLCONF = "wuye.core.tests.timeout_urls"


def test_a_page_stopped_by_the_time_limit_says_busy_in_the_users_language(client, slow_urls):
    response = client.get("/slow/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "系统繁忙" in response.content.decode()


def test_the_api_answers_503_json(client, slow_urls):
    response = client.get("/api/v1/slow/")
    assert response.status_code == 503 and response.json()["code"] == "busy"


def _database_options(**env) -> dict:
    code = "import json, wuye.settings as s; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_web_processes_get_short_limits_and_the_worker_long_ones():
    web = _database_options(WUYE_PROCESS="web")["options"]
    worker = _database_options(WUYE_PROCESS="")["options"]
    assert web == "-c statement_timeout=30s -c lock_timeout=10s"
    assert worker == "-c statement_timeout=30min -c lock_timeout=2min"
