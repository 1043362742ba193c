"""Forms of the online setup pages (merchant accounts, routes, mandates): they parse; the
services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuye.registry.models import Party
from wuye.registry.selectors import estates_for, scope

from .models import BankFileLayout, MerchantAccount, Provider


class MerchantAccountForm(forms.Form):
    estate = forms.ModelChoiceField(label=_("Estate"), queryset=None)
    provider = forms.ChoiceField(label=_("Provider"), choices=Provider.choices)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Names the credentials in WUYE_PAY['merchants'] on the server, e.g. hy-wechat"),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    mode = forms.ChoiceField(label=_("Mode"), choices=MerchantAccount.Mode.choices)
    is_default = forms.BooleanField(
        label=_("Default for the estate and provider"), required=False, initial=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if MerchantAccount.objects.filter(code=code).exists():
            raise forms.ValidationError(_("An account with this code exists."))
        return code


class MerchantEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(label=_("Default for the estate and provider"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class MandateForm(forms.Form):
    estate = forms.ModelChoiceField(label=_("Estate"), queryset=None)
    payment_ref = forms.CharField(
        label=_("Owner's payment reference"), max_length=12, help_text=_("e.g. WY7K3M9Q2P")
    )
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=BankFileLayout.objects.all())
    account_name = forms.CharField(label=_("Account holder"), max_length=100)
    account_number = forms.CharField(label=_("Account number"), max_length=40)
    limit = forms.DecimalField(
        label=_("Limit per debit (yuan)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: no limit."),
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput({"type": "date"}))
    signed_form = forms.FileField(
        label=_("Scan of the signed form"), help_text=_("PDF, JPG or PNG, at most 10 MB.")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["estate"].queryset = estates_for(user)

    def clean(self):
        data = super().clean()
        estate, ref = data.get("estate"), (data.get("payment_ref") or "").strip().upper()
        if estate is not None and ref:
            party = scope(Party.objects.filter(estate=estate, payment_ref=ref), self.user).first()
            if party is None:
                self.add_error("payment_ref", _("No owner of this estate has this reference."))
            data["party"] = party
        return data


class MandateFormScan(forms.Form):
    signed_form = forms.FileField(label=_("Scan of the signed form"))
