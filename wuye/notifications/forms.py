"""Staff forms of notifications. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, Language, Message, Purpose


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Message.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel")), *Channel.choices]
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), required=False, choices=[("", _("Any purpose")), *Purpose.choices]
    )
    party = forms.CharField(
        label=_("Owner"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name or payment reference")}),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class TemplateForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=50)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel")), *Channel.choices]
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class TemplateRevisionForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class PreviewForm(forms.Form):
    party = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    period = forms.CharField(label=_("Period"), required=False, initial="2026-01")
    amount = forms.DecimalField(label=_("Amount"), required=False, decimal_places=2, initial=100)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [(p.pk, f"{p.name} ({p.estate.name})") for p in parties]


class CampaignForm(forms.Form):
    estate = forms.TypedChoiceField(label=_("Estate"), coerce=int)
    period = forms.RegexField(
        label=_("Period"),
        regex=r"^\d{4}-\d{2}$",
        error_messages={"invalid": _("Write the month as YYYY-MM, e.g. 2026-12.")},
        widget=forms.TextInput(attrs={"placeholder": "2026-12"}),
    )
    template_code = forms.ChoiceField(label=_("Template"), required=False)

    def __init__(self, *args, estates, template_codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].choices = [(e.pk, e.name) for e in estates]
        self.fields["template_code"].choices = [(c, c) for c in template_codes]


class LetterBatchForm(forms.Form):
    estate = forms.TypedChoiceField(label=_("Estate"), coerce=int)

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].choices = [(e.pk, e.name) for e in estates]
