"""The owners' portal (mobile H5): sign in with a one-time code, my units, open charges,
statement, receipts (PDF), choose charges and pay online, raise a dispute or a hardship
request; an easy-reading mode with large type. And the staff's list of owners' requests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.audit.middleware import client_ip
from wuye.core.errors import DomainError
from wuye.core.normalize import as_ids
from wuye.notifications import services as notifications
from wuye.notifications.forms import CONSENT_CHANNELS
from wuye.notifications.models import ChannelConsent
from wuye.online import services as online
from wuye.online.conf import sandbox_enabled
from wuye.online.models import MerchantAccount, PaymentOrder
from wuye.online.providers import ProviderError
from wuye.online.views import qr_svg
from wuye.payments.documents import receipt_pdf
from wuye.payments.models import Receipt
from wuye.payments.views import verify_url
from wuye.registry.selectors import get_scoped

from . import selectors, services, session
from .forms import RequestForm, SignInForm
from .models import OwnerRequest

LARGE = "wuye_large"


def _client_ip(request) -> str:
    """The owner's address (behind a trusted proxy, the forwarded one), as the API sees it."""
    return client_ip(request) or ""


def login(request):
    """Phone, then the code it was sent. The answer to "send" never says whether the number
    belongs to an owner."""
    form = SignInForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if request.POST.get("action") == "send":
            try:
                services.code_request(phone=phone, ip=_client_ip(request))
            except DomainError as exc:
                form.add_error("phone", exc.message)
            else:
                sent = True
                messages.info(
                    request,
                    _("If this number is registered with us, a code is on its way by SMS."),
                )
        else:
            try:
                services.code_verify(phone=phone, code=form.cleaned_data["code"])
            except DomainError as exc:
                form.add_error("code" if exc.field == "code" else "phone", exc.message)
                sent = True
            else:
                response = redirect("portal:home")
                session.sign_in(response, services.normalize_mobile(phone))
                return response
    return render(request, "portal/login.html", {"form": form, "sent": sent})


@require_POST
def logout(request):
    response = redirect("portal:login")
    session.sign_out(request, response)
    return response


def large_type(request):
    """Switch the easy-reading mode (large type, more contrast) on or off."""
    wanted = request.GET.get("next") or ""
    if not wanted.startswith("/") or not url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        wanted = reverse("portal:home")  # only back to a page (a path) of this site
    response = HttpResponseRedirect(wanted)
    if request.COOKIES.get(LARGE) == "1":
        response.delete_cookie(LARGE)
    else:
        response.set_cookie(LARGE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _providers(parties) -> list[tuple[str, str]]:
    have = set(
        MerchantAccount.objects.filter(
            estate_id__in={p.estate_id for p in parties}, is_active=True
        ).values_list("provider", flat=True)
    )
    return [
        (p, label)
        for p, label in (("wechat", _("WeChat Pay")), ("alipay", _("Alipay")))
        if p in have
    ]


@session.owner_required
def home(request):
    parties = request.owner_parties
    charges = selectors.owner_open_charges(parties)
    recent = (
        PaymentOrder.objects.filter(party__in=parties)
        .select_related("payment__receipt")
        .order_by("-created_at")[:3]
    )
    return render(
        request,
        "portal/home.html",
        {
            "units": selectors.owner_units(parties),
            "charges": charges,
            "total": sum(c.outstanding for c in charges),
            "providers": _providers(parties),
            "recent": recent,
        },
    )


@require_POST
@session.owner_required
def pay(request):
    ids = as_ids(request.POST.getlist("charge"))
    provider = request.POST.get("provider", "wechat")
    parties = {p.pk: p for p in request.owner_parties}
    from wuye.billing.models import Charge

    owners = set(Charge.objects.filter(pk__in=ids).values_list("party_id", flat=True))
    if not ids or not owners or not owners <= set(parties):
        messages.error(request, _("Choose the charges to pay."))
        return redirect("portal:home")
    if len(owners) > 1:
        messages.error(request, _("Pay the charges of each estate separately."))
        return redirect("portal:home")
    party = parties[owners.pop()]
    in_wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    if provider == "alipay":
        kind = "wap"
    elif in_wechat and party.wechat_openid:
        kind = "jsapi"
    else:
        kind = "native"
    try:
        order = online.order_create(
            party=party,
            charge_ids=ids,
            provider=provider,
            kind=kind,
            openid=party.wechat_openid if kind == "jsapi" else "",
            client_ip=_client_ip(request),
            return_url=request.build_absolute_uri(reverse("portal:home")),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:home")
    if order.start_error:
        messages.error(request, _("The payment could not be started; please try again later."))
        return redirect("portal:home")
    if order.pay_url:
        return redirect(order.pay_url)
    return redirect("portal:order", out_trade_no=order.out_trade_no)


def _own_order(request, out_trade_no: str) -> PaymentOrder:
    return get_object_or_404(
        PaymentOrder.objects.select_related("payment__receipt", "party"),
        out_trade_no=out_trade_no,
        party__in=request.owner_parties,
    )


@session.owner_required
def order(request, out_trade_no: str):
    """The order: its QR code (or the sandbox wallet), then, paid, the receipt. Polls."""
    order = online.order_news(_own_order(request, out_trade_no))
    here = reverse("portal:order", args=[order.out_trade_no])
    wallet = ""
    if order.code_url and sandbox_enabled() and "/pay/sandbox/" in order.code_url:
        wallet = f"{order.code_url}?{urlencode({'return': here})}"
    context = {
        "order": order,
        "qr": qr_svg(order.code_url) if order.code_url and order.is_open else "",
        "wallet": wallet,
        "receipt": getattr(order.payment, "receipt", None) if order.payment_id else None,
        "jsapi": online.jsapi_params(order) if order.kind == "jsapi" else {},
    }
    template = "portal/_order_status.html" if request.htmx else "portal/order.html"
    return render(request, template, context)


@require_POST
@session.owner_required
def order_cancel(request, out_trade_no: str):
    order = _own_order(request, out_trade_no)
    try:
        online.order_close(order=order)
    except DomainError as exc:
        messages.error(request, exc.message)
    except ProviderError:
        messages.error(request, _("The payment service did not answer; please try again later."))
    return redirect("portal:home")


@session.owner_required
def statement(request):
    data = selectors.owner_statement(request.owner_parties)
    return render(request, "portal/statement.html", data)


@session.owner_required
def receipts(request):
    page = Paginator(selectors.owner_receipts(request.owner_parties), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/receipts.html", {"page": page})


@session.owner_required
def receipt_download(request, pk: int):
    receipt = selectors.owner_receipts(request.owner_parties).filter(pk=pk).first()
    if receipt is None:
        raise Http404("receipt")
    receipt = Receipt.objects.select_related(
        "payment__party", "payment__unit", "payment__created_by", "estate"
    ).get(pk=receipt.pk)
    content = receipt_pdf(receipt, paper="a5", verify_url=verify_url(request, receipt))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{receipt.code}.pdf"'
    return response


@session.owner_required
def request_new(request):
    parties = request.owner_parties
    units = [up.unit for up in selectors.owner_units(parties)]
    form = RequestForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        unit = next((u for u in units if u.pk == form.cleaned_data["unit"]), None)
        party = next(
            (p for p in parties if unit is None or p.estate_id == unit.estate_id), parties[0]
        )
        try:
            services.request_raise(
                party=party,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                unit=unit,
                charge_ids=as_ids(request.POST.getlist("charge")),
                phone=form.cleaned_data["phone"] or request.owner_phone,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Thank you. We will call you back within two working days.")
            )
            return redirect("portal:requests")
    return render(request, "portal/request_form.html", {"form": form})


@session.owner_required
def requests(request):
    return render(
        request, "portal/requests.html", {"items": selectors.owner_requests(request.owner_parties)}
    )


@session.owner_required
def consents(request):
    """The owner says how we may send them messages (SMS, WeChat, app, e-mail), per estate
    file. Each change is recorded as given online in the portal, with its time."""
    parties = request.owner_parties
    if request.method == "POST":
        changed = 0
        for party in parties:
            for channel, __ in CONSENT_CHANNELS:
                wanted = request.POST.get(f"consent-{party.pk}-{channel}") == "1"
                # a switch left off where nothing was given withdraws nothing
                if wanted == ((party.consents or {}).get(channel) is True):
                    continue
                notifications.consent_record(
                    actor=None,
                    party=party,
                    channel=channel,
                    given=wanted,
                    source=ChannelConsent.Source.PORTAL,
                    method=ChannelConsent.Method.ONLINE,
                    note=_("phone %(phone)s") % {"phone": request.owner_phone},
                )
                changed += 1
        if changed:
            messages.success(request, _("Thank you: your choice is saved."))
        return redirect("portal:consents")
    rows = [
        {
            "party": party,
            "channels": [
                (code, label, (party.consents or {}).get(code) is True)
                for code, label in CONSENT_CHANNELS
            ],
        }
        for party in parties
    ]
    return render(request, "portal/consents.html", {"rows": rows})


# --- staff -----------------------------------------------------------------------------------
@login_required
@permission_required("portal.view_ownerrequest", raise_exception=True)
def staff_requests(request):
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    qs = selectors.requests_for(request.user, status=status, kind=kind)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/staff_requests.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": OwnerRequest.Status.choices,
            "kinds": OwnerRequest.Kind.choices,
        },
    )


@login_required
@permission_required("portal.view_ownerrequest", raise_exception=True)
def staff_request(request, pk: int):
    item = get_scoped(selectors.requests_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        try:
            services.request_answer(
                actor=request.user,
                item=item,
                answer=request.POST.get("answer", ""),
                close=request.POST.get("close") == "1",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("portal:staff_requests")
    charges = []
    if item.charge_ids:
        from wuye.billing.models import Charge

        charges = list(Charge.objects.filter(pk__in=item.charge_ids, party=item.party))
    return render(request, "portal/staff_request.html", {"item": item, "charges": charges})
