"""The provider notify endpoints (/pay/notify/wechat, /pay/notify/alipay): raw bytes in,
the provider's expected reply out. No session, no CSRF (the signature is the authentication),
and never a crash: whatever arrives gets a reply."""

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Provider
from .providers.alipay import AlipayClient
from .providers.wechat import WechatClient
from .services import notification_receive

log = logging.getLogger(__name__)


def _receive(request, provider: str) -> HttpResponse:
    try:
        status, content_type, body = notification_receive(
            provider=provider,
            headers=request.headers,
            body=request.body,
            remote_addr=request.META.get("REMOTE_ADDR", ""),
        )
    except Exception:  # the endpoint answers whatever happens; the log has the rest
        log.exception("%s notification crashed", provider)
        client = WechatClient if provider == Provider.WECHAT else AlipayClient
        status, content_type, body = client.reply_fail("error")
        status = 500
    return HttpResponse(body, status=status, content_type=content_type)


@csrf_exempt
@require_POST
def notify_wechat(request):
    return _receive(request, Provider.WECHAT)


@csrf_exempt
@require_POST
def notify_alipay(request):
    return _receive(request, Provider.ALIPAY)
