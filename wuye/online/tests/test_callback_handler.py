"""The WSGI application sends the notify endpoints through the short callback middleware
(wuye/core/callbacks.py) and every other page through Django's full one; a notification
posts the same either way."""

import io

import pytest
from django.core import signals
from django.db import close_old_connections

from wuye.online.models import InboxNotification
from wuye.payments.models import Payment

from .conftest import wechat_notification, wechat_tx

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi():
    """Call wuye.wsgi.application as gunicorn would, inside the test's transaction (as
    Django's test client does, connections are not closed at the end of a request)."""
    from wuye.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def call(method, path, body=b"", headers=None):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
        }
        for name, value in (headers or {}).items():
            if name.lower() != "content-type":
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        started = {}
        chunks = application(environ, lambda status, hdrs: started.update(s=status, h=hdrs))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(started["s"].split()[0]), dict(started["h"]), content

    yield call
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_a_notification_through_the_callback_handler_is_posted(
    wsgi, wechat_keys, wechat_account, make_order
):
    # given a paid order's signed notification
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    # when it reaches the WSGI application
    status, response_headers, content = wsgi("POST", "/pay/notify/wechat", body, headers)
    # then it is posted, through the short chain: the audit context is there (a request id),
    # no session, CSRF or frame-options work was done
    assert (status, content) == (200, b"")
    order.refresh_from_db()
    assert order.status == "paid" and Payment.objects.get().receipt is not None
    assert InboxNotification.objects.get().outcome == "posted"
    assert "X-Request-ID" in response_headers
    assert "X-Frame-Options" not in response_headers and "Vary" not in response_headers


def test_a_forged_notification_through_the_callback_handler_is_refused(
    wsgi, wechat_keys, wechat_account, make_order
):
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys), forge=True)
    status, _, content = wsgi("POST", "/pay/notify/wechat", body, headers)
    assert status == 400 and b'"FAIL"' in content
    assert not Payment.objects.exists()


def test_staff_pages_keep_the_full_middleware(wsgi):
    # the login page through the same application: sessions, CSRF and frame options apply
    status, response_headers, content = wsgi("GET", "/accounts/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in content
    assert response_headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in response_headers.get("Set-Cookie", "")


def test_a_notification_is_written_in_the_sites_language_whatever_the_thread_last_spoke(
    wsgi, settings, wechat_keys, wechat_account, make_order
):
    # given a site in zh-hans, and a thread whose last request was in English
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"
    translation.activate("en")
    order = make_order(wechat_account)
    headers, body = wechat_notification(wechat_keys, wechat_tx(order, wechat_keys))
    try:
        # when the notification is posted through the callback handler
        assert wsgi("POST", "/pay/notify/wechat", body, headers)[0] == 200
    finally:
        translation.deactivate()
    # then the payment's note names the provider in the site's language
    assert Payment.objects.get().note.startswith("微信支付")
