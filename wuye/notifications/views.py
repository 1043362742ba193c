"""Staff pages: the outbox, templates (list, preview, new version), campaigns, letters."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.params import filters_valid, query_id
from wuye.registry.models import Party
from wuye.registry.selectors import estates_for, get_scoped, scope

from . import selectors, services
from .forms import (
    CampaignForm,
    LetterBatchForm,
    OutboxFilterForm,
    PreviewForm,
    TemplateForm,
    TemplateRevisionForm,
)
from .models import Campaign, Channel, LetterBatch, Message, MessageTemplate


@login_required
@permission_required("notifications.view_message", raise_exception=True)
def outbox(request):
    form = OutboxFilterForm(request.GET or None)
    filters = filters_valid(form) if form.is_bound else {}
    qs = selectors.message_search(
        request.user,
        status=filters.get("status", ""),
        channel=filters.get("channel", ""),
        purpose=filters.get("purpose", ""),
        party=filters.get("party", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        campaign_id=query_id(request.GET, "campaign"),
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/outbox.html", {"form": form, "page": page})


@login_required
@permission_required("notifications.view_message", raise_exception=True)
def message_detail(request, pk: int):
    message = get_scoped(
        Message.objects.select_related("party", "estate", "template", "fallback_of"),
        request.user,
        pk=pk,
    )
    return render(
        request,
        "notifications/message_detail.html",
        {
            "message": message,
            "fallbacks": message.fallbacks.all(),
            "receipts": message.receipts.all(),
            "channels": Channel.choices,
        },
    )


@login_required
@require_POST
def message_resend(request, pk: int):
    message = get_scoped(Message.objects.all(), request.user, pk=pk)
    try:
        new = services.message_resend(
            actor=request.user, message=message, channel=request.POST.get("channel") or None
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("notifications:message_detail", pk=pk)
    messages.success(request, _("Queued again as message #%(id)s.") % {"id": new.pk})
    return redirect("notifications:message_detail", pk=new.pk)


@login_required
@permission_required("notifications.view_messagetemplate", raise_exception=True)
def template_list(request):
    templates = selectors.template_list(
        code=request.GET.get("code", ""), language=request.GET.get("language", "")
    )
    return render(request, "notifications/template_list.html", {"templates": templates})


def _preview_parties(user):
    return scope(Party.objects.select_related("estate"), user).order_by("estate_id", "name")[:200]


@login_required
@permission_required("notifications.view_messagetemplate", raise_exception=True)
def template_detail(request, pk: int):
    template = MessageTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404("template")
    revise = TemplateRevisionForm(initial={"subject": template.subject, "body": template.body})
    if request.method == "POST":
        revise = TemplateRevisionForm(request.POST)
        if revise.is_valid():
            try:
                new = services.template_revise(
                    actor=request.user, template=template, **revise.cleaned_data
                )
            except DomainError as exc:
                revise.add_error(exc.field if exc.field in revise.fields else None, exc.message)
            else:
                messages.success(request, _("Saved as version %(v)s.") % {"v": new.version})
                return redirect("notifications:template_detail", pk=new.pk)
    versions = MessageTemplate.objects.filter(
        code=template.code, channel=template.channel, language=template.language
    ).order_by("-version")
    preview_form = PreviewForm(parties=_preview_parties(request.user))
    return render(
        request,
        "notifications/template_detail.html",
        {
            "template": template,
            "versions": versions,
            "revise": revise,
            "preview_form": preview_form,
            "used": template.messages.exists(),
        },
    )


@login_required
@permission_required("notifications.view_messagetemplate", raise_exception=True)
@require_POST
def template_preview(request, pk: int):
    """htmx: the template rendered with a chosen owner's real data."""
    template = MessageTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404("template")
    form = PreviewForm(request.POST, parties=_preview_parties(request.user))
    context = {"template": template}
    if form.is_valid():
        party = get_scoped(
            Party.objects.select_related("estate"), request.user, pk=form.cleaned_data["party"]
        )
        values = {
            k: v for k, v in form.cleaned_data.items() if k != "party" and v not in ("", None)
        }
        try:
            context["preview"] = services.template_preview(
                template=template,
                party=party,
                context=values,
                reveal=request.user.has_perm("registry.view_pii"),
            )
        except DomainError as exc:
            context["error"] = exc.message
    else:
        context["error"] = "; ".join(e for errors in form.errors.values() for e in errors)
    return render(request, "notifications/_preview.html", context)


@login_required
@permission_required("notifications.add_messagetemplate", raise_exception=True)
def template_create(request):
    form = TemplateForm(request.POST or None, initial=request.GET or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Template saved."))
            return redirect("notifications:template_detail", pk=template.pk)
    return render(request, "notifications/template_form.html", {"form": form})


def _campaign_form(request, data=None):
    codes = sorted(
        set(
            MessageTemplate.objects.filter(is_active=True, purpose="bill_notice").values_list(
                "code", flat=True
            )
        )
    ) or ["bill_notice"]
    return CampaignForm(data, estates=estates_for(request.user), template_codes=codes)


@login_required
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_list(request):
    form = _campaign_form(request, request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        estate_id, period = form.cleaned_data["estate"], form.cleaned_data["period"]
        code = form.cleaned_data.get("template_code") or "bill_notice"
        if "send" in request.POST:
            try:
                campaign = services.campaign_start(
                    actor=request.user, estate_id=estate_id, period=period, template_code=code
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("notifications:campaign_detail", pk=campaign.pk)
        else:
            preview = selectors.campaign_preview(estate_id=estate_id, period=period)
    campaigns = scope(Campaign.objects.select_related("estate"), request.user)[:50]
    return render(
        request,
        "notifications/campaigns.html",
        {"form": form, "preview": preview, "campaigns": campaigns},
    )


@login_required
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_detail(request, pk: int):
    campaign = get_scoped(Campaign.objects.select_related("estate"), request.user, pk=pk)
    context = {"campaign": campaign, "outbox": selectors.campaign_outbox_counts(campaign)}
    name = "notifications/_campaign_status.html" if request.htmx else "notifications/campaign.html"
    return render(request, name, context)


@login_required
@permission_required("notifications.view_letterbatch", raise_exception=True)
def letters(request):
    form = LetterBatchForm(request.POST or None, estates=estates_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.letter_batch_create(
                actor=request.user, estate_id=form.cleaned_data["estate"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if batch is None:
                messages.info(request, _("No letter is waiting to be printed."))
            else:
                messages.success(request, _("%(n)s letters printed.") % {"n": batch.letters})
            return redirect("notifications:letters")
    batches = scope(LetterBatch.objects.select_related("estate"), request.user)[:50]
    waiting = scope(selectors.letters_waiting(Message.objects.all()), request.user).count()
    return render(
        request,
        "notifications/letters.html",
        {"form": form, "batches": batches, "waiting": waiting},
    )


@login_required
@permission_required("notifications.view_letterbatch", raise_exception=True)
def letter_batch_pdf(request, pk: int):
    batch = get_scoped(LetterBatch.objects.all(), request.user, pk=pk)
    return FileResponse(batch.file.open("rb"), content_type="application/pdf")
