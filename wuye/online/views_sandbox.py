"""The sandbox gateway's pages: the payer's confirm page, the developer's tools (replay,
duplicate, forge), and the providers' HTTP APIs for SDKs pointed at /pay/sandbox/. Only while
the sandbox is on."""

from functools import wraps

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt

from . import sandbox
from .conf import sandbox_enabled
from .models import InboxNotification, SandboxTrade

HOWS = ["normal", "resend", "duplicate", "forged", "stale", "wrong_amount", "platform_cert"]


def sandbox_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not sandbox_enabled():
            raise Http404("the sandbox is switched off")
        return view(request, *args, **kwargs)

    return wrapped


def _safe_return(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return ""


@sandbox_only
def pay_page(request, token: str):
    """The payer's wallet: shows what is paid for and confirms (#sandbox-pay)."""
    trade = get_object_or_404(SandboxTrade, token=token)
    back = _safe_return(request, request.GET.get("return") or trade.return_url)
    if request.method == "POST":
        was_unpaid = trade.state == "NOTPAY"
        trade = sandbox.mark_paid(trade)
        if was_unpaid and trade.state == "SUCCESS":
            sandbox.deliver(trade)
        back = _safe_return(request, request.POST.get("return", "")) or back
        return redirect(back or "online:sandbox_tools")
    return render(request, "online/sandbox_pay.html", {"trade": trade, "back": back})


@sandbox_only
def tools(request):
    """Recent sandbox trades with buttons to notify them again, in every way a provider or
    an attacker might."""
    result = None
    if request.method == "POST":
        trade = get_object_or_404(SandboxTrade, token=request.POST.get("token", ""))
        how = request.POST.get("how", "normal")
        if how not in HOWS:
            how = "normal"
        if trade.state == "NOTPAY" and how != "forged":
            trade = sandbox.mark_paid(trade)
        replies = sandbox.deliver(trade, how="normal" if how == "resend" else how)
        result = {"trade": trade, "how": how, "replies": replies}
    return render(
        request,
        "online/sandbox_tools.html",
        {
            "trades": SandboxTrade.objects.order_by("-created_at")[:30],
            "inbox": InboxNotification.objects.order_by("-received_at")[:30],
            "hows": HOWS,
            "result": result,
        },
    )


@csrf_exempt
@sandbox_only
def wechat_api(request, path: str):
    """WeChat Pay API v3 over HTTP, for an SDK whose gateway is /pay/sandbox/wechat."""
    full = (
        "/"
        + path
        + (f"?{request.META['QUERY_STRING']}" if request.META.get("QUERY_STRING") else "")
    )
    resp = sandbox.wechat_api(request.method, full, request.headers, request.body)
    out = HttpResponse(resp.text, status=resp.status, content_type="application/json")
    for key, value in resp.headers.items():
        if key.lower().startswith("wechatpay-") or key.lower() == "request-id":
            out[key] = value
    return out


@csrf_exempt
@sandbox_only
def alipay_gateway(request):
    """The Alipay gateway: a browser opening a signed wap pay URL sees the cashier page;
    server calls (query, close, precreate, pay, refund) get signed JSON."""
    params = {
        k: v for k, v in (request.GET.items() if request.method == "GET" else request.POST.items())
    }
    if params.get("method") == "alipay.trade.wap.pay":
        trade = sandbox.alipay_wap_trade(params)
        if trade is None:
            return HttpResponse("invalid signature", status=400, content_type="text/plain")
        return redirect("online:sandbox_pay", token=trade.token)
    status, content_type, body = sandbox.alipay_api(params)
    return HttpResponse(body, status=status, content_type=f"{content_type}; charset=utf-8")


@sandbox_only
def trade_json(request, token: str):
    trade = get_object_or_404(SandboxTrade, token=token)
    return JsonResponse(
        {
            "provider": trade.provider,
            "out_trade_no": trade.out_trade_no,
            "state": trade.state,
            "amount": str(trade.amount),
            "transaction_id": trade.transaction_id,
        }
    )
