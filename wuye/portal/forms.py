"""Forms of the owners' portal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OwnerRequest


class SignInForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about"), choices=OwnerRequest.Kind.choices)
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int, required=False)
    text = forms.CharField(label=_("Tell us"), widget=forms.Textarea(attrs={"rows": 5}))
    phone = forms.CharField(label=_("Call me back on"), max_length=20, required=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "—")] + [(u.pk, str(u.number)) for u in units]
