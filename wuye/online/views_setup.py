"""Setup pages of online collection (finance, supervisors): merchant accounts (which are
configured on the server, a test against the provider or the sandbox), the fee items each
collects, and owners' auto-debit mandates (sign-up with the signed form, suspend, revoke).
Thin: one service each (wuye.online.services.setup and the existing ones)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.normalize import as_id, clean_text
from wuye.core.params import parse_id, query_id
from wuye.fees.models import FeeItem
from wuye.registry.selectors import estates_for, get_scoped, scope

from . import services
from .forms_setup import MandateForm, MandateFormScan, MerchantAccountForm, MerchantEditForm
from .models import DebitMandate, MerchantAccount, MerchantRoute, Provider
from .services import setup


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _estate(request):
    estates = estates_for(request.user)
    wanted = parse_id("estate", request.GET.get("estate") or request.POST.get("estate"))
    return estates, (estates.filter(pk=wanted).first() if wanted else None) or estates.first()


# --- merchant accounts -----------------------------------------------------------------------
@login_required
@permission_required("online.view_merchantaccount", raise_exception=True)
def merchant_list(request):
    estates, estate = _estate(request)
    accounts = list(
        MerchantAccount.objects.filter(estate=estate).order_by("provider", "code") if estate else []
    )
    rows = [{"account": a, "configured": setup.merchant_configured(a)} for a in accounts]
    items = FeeItem.objects.filter(estate=estate, is_active=True).order_by("code") if estate else []
    routes = {
        (r.fee_item_id, r.provider): r.account_id
        for r in MerchantRoute.objects.filter(fee_item__estate=estate)
    }
    route_rows = [
        {
            "item": item,
            "providers": [
                {
                    "provider": p,
                    "label": label,
                    "current": routes.get((item.pk, p)),
                    "accounts": [a for a in accounts if a.provider == p and a.is_active],
                }
                for p, label in Provider.choices
            ],
        }
        for item in items
    ]
    return render(
        request,
        "online/merchant_list.html",
        {"estates": estates, "estate": estate, "rows": rows, "route_rows": route_rows},
    )


def _merchants_url(estate_id) -> str:
    return f"{reverse('online:merchant_list')}?estate={estate_id}"


@login_required
@permission_required("online.add_merchantaccount", raise_exception=True)
def merchant_new(request):
    form = MerchantAccountForm(
        request.POST or None,
        user=request.user,
        initial={"estate": query_id(request.GET, "estate"), "mode": "live", "is_default": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = services.merchant_account_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Merchant account %(name)s added.") % {"name": account})
            return redirect(_merchants_url(account.estate_id))
    return render(request, "core/form.html", {"form": form, "title": _("New merchant account")})


@require_POST
@login_required
@permission_required("online.change_merchantaccount", raise_exception=True)
def merchant_edit(request, pk: int):
    account = get_scoped(MerchantAccount.objects.all(), request.user, pk=pk)
    form = MerchantEditForm(request.POST)
    if form.is_valid():
        try:
            setup.merchant_account_update(actor=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, form.errors.as_text())
    return redirect(_merchants_url(account.estate_id))


@require_POST
@login_required
@permission_required("online.change_merchantaccount", raise_exception=True)
def merchant_test(request, pk: int):
    account = get_scoped(MerchantAccount.objects.all(), request.user, pk=pk)
    result = setup.merchant_account_test(actor=request.user, account=account)
    if result.ok:
        messages.success(
            request, _("%(account)s works: %(how)s.") % {"account": account, "how": result.message}
        )
    else:
        messages.error(
            request,
            _("%(account)s does not work: %(why)s") % {"account": account, "why": result.message},
        )
    return redirect(_merchants_url(account.estate_id))


@require_POST
@login_required
@permission_required("online.change_merchantaccount", raise_exception=True)
def route_set(request):
    item = get_scoped(FeeItem.objects.all(), request.user, pk=as_id(request.POST.get("fee_item")))
    provider = request.POST.get("provider", "")
    account = None
    if request.POST.get("account"):
        account = get_scoped(
            MerchantAccount.objects.all(), request.user, pk=as_id(request.POST.get("account"))
        )
    try:
        services.merchant_route_set(
            actor=request.user, fee_item=item, provider=provider, account=account
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(item)s: saved.") % {"item": item.name})
    return redirect(_merchants_url(item.estate_id))


# --- auto-debit mandates ---------------------------------------------------------------------
@login_required
@permission_required("online.view_debitmandate", raise_exception=True)
def mandate_list(request):
    estate_id = query_id(request.GET, "estate")
    status = request.GET.get("status", "")
    mandates = scope(DebitMandate.objects.select_related("party", "bank", "estate"), request.user)
    if estate_id:
        mandates = mandates.filter(estate_id=estate_id)
    if status in DebitMandate.Status.values:
        mandates = mandates.filter(status=status)
    q = clean_text(request.GET.get("q", ""))
    if q:
        mandates = mandates.filter(
            Q(party__name__icontains=q) | Q(party__payment_ref=q.upper()) | Q(reference=q.upper())
        )
    page = Paginator(mandates.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "online/mandate_list.html",
        {
            "page": page,
            "estates": estates_for(request.user),
            "estate_id": estate_id,
            "status": status,
            "statuses": DebitMandate.Status.choices,
            "q": q,
        },
    )


@login_required
@permission_required("online.add_debitmandate", raise_exception=True)
def mandate_new(request):
    initial = {"estate": query_id(request.GET, "estate"), "payment_ref": request.GET.get("ref")}
    form = MandateForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("estate"), data.pop("payment_ref")
        try:
            mandate = setup.mandate_sign_up(actor=request.user, **data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                _("Mandate %(ref)s signed up for %(party)s.")
                % {"ref": mandate.reference, "party": mandate.party},
            )
            return redirect("online:mandate_detail", pk=mandate.pk)
    return render(
        request, "core/form.html", {"form": form, "title": _("Sign an owner up for auto-debit")}
    )


@login_required
@permission_required("online.view_debitmandate", raise_exception=True)
def mandate_detail(request, pk: int):
    mandate = get_scoped(
        DebitMandate.objects.select_related("party", "bank", "estate", "created_by"),
        request.user,
        pk=pk,
    )
    scan = MandateFormScan(request.POST or None, request.FILES or None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "suspend":
                setup.mandate_suspend(actor=request.user, mandate=mandate)
            elif action == "reinstate":
                setup.mandate_reinstate(actor=request.user, mandate=mandate)
            elif action == "revoke":
                services.mandate_cancel(actor=request.user, mandate=mandate)
            elif action == "scan" and scan.is_valid():
                setup.mandate_form_attach(
                    actor=request.user,
                    mandate=mandate,
                    signed_form=scan.cleaned_data["signed_form"],
                )
            else:
                raise DomainError(_("Choose what to do."))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return redirect("online:mandate_detail", pk=mandate.pk)
    items = mandate.items.select_related("batch").order_by("-batch__debit_date", "-id")[:12]
    return render(
        request, "online/mandate_detail.html", {"mandate": mandate, "scan": scan, "items": items}
    )


@login_required
@permission_required("online.view_debitmandate", raise_exception=True)
def mandate_form(request, pk: int):
    """The signed form's scan, through estate scoping (never a public media URL)."""
    mandate = get_scoped(DebitMandate.objects.all(), request.user, pk=pk)
    if not mandate.signed_form:
        raise Http404("no signed form")
    return FileResponse(
        mandate.signed_form.open("rb"), filename=mandate.signed_form.name.rsplit("/", 1)[-1]
    )
