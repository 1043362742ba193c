"""Setup pages of notifications: the estate's contact policy, and owners' consents per
channel (recorded at the service desk or the cashier window). Thin: one service each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.core.params import query_id
from wuye.registry.models import Party
from wuye.registry.selectors import estates_for, get_scoped, scope

from . import services
from .forms import CONSENT_CHANNELS, ConsentForm, ContactPolicyForm, OptOutForm
from .models import CONTACT_CHANNELS, ChannelConsent
from .policy import policy_for


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@permission_required("notifications.view_contactpolicy", raise_exception=True)
def contact_policy(request):
    estates = estates_for(request.user)
    estate = estates.filter(pk=query_id(request.GET, "estate")).first() or estates.first()
    if estate is None:
        return render(request, "notifications/contact_policy.html", {"estates": estates})
    policy = policy_for(estate.pk)
    initial = {
        "quiet_start": policy.quiet_start,
        "quiet_end": policy.quiet_end,
        "weekly_cap": policy.weekly_cap,
        "weekly_cap_total": policy.weekly_cap_total,
        "channels": [c for c in CONTACT_CHANNELS if policy.channel_enabled(c)],
        "default_language": policy.default_language,
    }
    can_change = request.user.has_perm("notifications.change_contactpolicy")
    form = ContactPolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and can_change and form.is_valid():
        data = dict(form.cleaned_data)
        chosen = set(data.pop("channels"))
        data["channels_enabled"] = {c: c in chosen for c in CONTACT_CHANNELS}
        try:
            services.contact_policy_update(actor=request.user, estate_id=estate.pk, **data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Contact policy of %(estate)s saved.") % {"estate": estate})
            return redirect(f"{reverse('notifications:contact_policy')}?estate={estate.pk}")
    return render(
        request,
        "notifications/contact_policy.html",
        {"form": form, "estate": estate, "estates": estates, "can_change": can_change},
    )


@login_required
@permission_required("notifications.view_channelconsent", raise_exception=True)
def consent_list(request):
    """The newest consents recorded, searchable by owner; each owner's page records more."""
    records = scope(
        ChannelConsent.objects.select_related("party", "recorded_by").order_by("-created_at"),
        request.user,
    )
    q = clean_text(request.GET.get("q", ""))
    parties = []
    if q:
        records = records.filter(Q(party__name__icontains=q) | Q(party__payment_ref=q))
        parties = scope(Party.objects.filter(name__icontains=q), request.user)[:20]
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request, "notifications/consent_list.html", {"page": page, "parties": parties, "q": q}
    )


def _opt_out(request, party, form):
    """Record that the owner refuses a channel (letters, calls and visits included), or lift
    such a refusal."""
    if not request.user.has_perm("notifications.add_channeloptout"):
        messages.error(request, _("Your role may not record opt-outs."))
    elif request.POST["action"] == "opt_in":
        services.channel_opt_in(
            actor=request.user, party=party, channel=request.POST.get("channel")
        )
        messages.success(request, _("The opt-out is lifted."))
    elif form.is_valid():
        try:
            services.channel_opt_out(actor=request.user, party=party, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The opt-out of %(party)s is recorded.") % {"party": party})
    else:
        messages.error(request, form.errors.as_text())
    return redirect(request.get_full_path())


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


@login_required
@permission_required("notifications.view_channelconsent", raise_exception=True)
def party_consents(request, party_pk: int):
    """One owner's word on each channel, its history, and the form to record a new one.
    `?from=window` (the cashier window's link) records the source as the window."""
    party = get_scoped(Party.objects.select_related("estate"), request.user, pk=party_pk)
    source = "window" if request.GET.get("from") == "window" else "service_desk"
    form = ConsentForm(
        request.POST if request.method == "POST" else None, initial={"source": source}
    )
    opt_out = OptOutForm(request.POST if request.POST.get("action") == "opt_out" else None)
    if request.method == "POST" and request.POST.get("action") in ("opt_out", "opt_in"):
        return _opt_out(request, party, opt_out)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(actor=request.user, party=party, **data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Consent of %(party)s recorded.") % {"party": party})
            target = _safe_next(request) or request.get_full_path()
            return redirect(target)
    history = party.channel_consents.select_related("recorded_by").order_by("-at", "-id")
    current = {}
    for record in history:
        current.setdefault(record.channel, record)
    rows = [
        {"channel": label, "record": current.get(code), "given": (party.consents or {}).get(code)}
        for code, label in CONSENT_CHANNELS
    ]
    return render(
        request,
        "notifications/party_consents.html",
        {
            "party": party,
            "rows": rows,
            "history": history,
            "form": form,
            "can_record": request.user.has_perm("notifications.add_channelconsent"),
            "opt_out": opt_out,
            "opt_outs": [
                (o, dict(CONSENT_CHANNELS).get(o.channel, o.channel))
                for o in party.channel_opt_outs.filter(revoked_at__isnull=True).order_by("channel")
            ],
            "can_opt_out": request.user.has_perm("notifications.add_channeloptout"),
            "next": _safe_next(request),
        },
    )
