"""Staff forms of notifications. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, ChannelConsent, Language, Message, Purpose


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


CONSENT_CHANNELS = [(c, label) for c, label in Channel.choices if c != Channel.LETTER]


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=CONSENT_CHANNELS)
    given = forms.TypedChoiceField(
        label=_("The owner"),
        choices=[("1", _("agrees to be contacted this way")), ("0", _("withdraws the consent"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    method = forms.ChoiceField(label=_("How"), choices=ChannelConsent.Method.choices)
    source = forms.ChoiceField(label=_("Recorded at"), choices=ChannelConsent.Source.choices)
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        help_text=_("e.g. the number of the signed form"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # staff record what they heard or read; the owner's own clicks come from the portal
        self.fields["source"].choices = [
            c for c in ChannelConsent.Source.choices if c[0] not in ("portal", "import")
        ]
        self.fields["method"].choices = [
            c for c in ChannelConsent.Method.choices if c[0] != ChannelConsent.Method.ONLINE
        ]


class ContactPolicyForm(forms.Form):
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("The same time twice: no quiet hours. Letters are never held back."),
    )
    weekly_cap = forms.IntegerField(
        label=_("Contacts per channel per week"),
        min_value=0,
        max_value=50,
        help_text=_("Per owner over any 7 days, calls and visits included; 0: no cap."),
    )
    weekly_cap_total = forms.IntegerField(
        label=_("Contacts per week on all channels together"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Empty or 0: no cap across channels."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels in use"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[*Channel.choices, ("call", _("Phone call")), ("visit", _("Visit"))],
    )
    default_language = forms.ChoiceField(label=_("Language of messages"), choices=Language.choices)


class OptOutForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("The owner refuses"),
        choices=[*Channel.choices, ("call", _("Phone call")), ("visit", _("Visit"))],
    )
    source = forms.CharField(
        label=_("Where it came from"),
        max_length=50,
        help_text=_("e.g. hotline, at the window, letter"),
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
