"""Staff forms of the registry. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .id_numbers import IdNumberInvalid, id_number_clean
from .models import Estate, OwnerNote, Party, ServiceContract, Unit, UnitParty

DATE = forms.DateInput(attrs={"type": "date"})


class UnitFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Unit number, owner name or last 4 phone digits"),
                "autofocus": True,
            }
        ),
    )
    estate = forms.TypedChoiceField(label=_("Estate"), required=False, coerce=int, empty_value=None)
    unit_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *Unit.Type.choices]
    )
    occupancy = forms.ChoiceField(
        label=_("Occupancy"),
        required=False,
        choices=[("", _("Any occupancy")), *Unit.Occupancy.choices],
    )

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].choices = [("", _("All my estates"))] + [
            (e.pk, e.name) for e in estates
        ]


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = [
            "building",
            "number",
            "entrance",
            "floor",
            "gross_area",
            "unit_type",
            "handover_date",
            "fee_start_date",
            "occupancy",
        ]
        widgets = {"handover_date": DATE, "fee_start_date": DATE}

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class PartyForm(forms.ModelForm):
    preferred_channels = forms.MultipleChoiceField(
        label=_("Preferred channels"),
        required=False,
        choices=Party.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Party
        fields = [
            "name",
            "kind",
            "mobile",
            "phone_alt",
            "email",
            "id_number",
            "mailing_address",
            "wechat_openid",
            "preferred_channels",
        ]
        widgets = {"id_number": forms.TextInput()}

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number") or ""
        if self.instance.pk and value == self.instance.id_number:
            return value  # unchanged: an old record can still be edited
        try:
            return id_number_clean(value)
        except IdNumberInvalid as exc:
            raise forms.ValidationError(str(exc)) from None


class PartyCreateForm(PartyForm):
    estate = forms.ModelChoiceField(label=_("Estate"), queryset=Estate.objects.none())

    field_order = ["estate"]

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates


class UnitPartyForm(forms.ModelForm):
    class Meta:
        model = UnitParty
        fields = ["party", "role", "start_date", "is_payer"]
        widgets = {"start_date": DATE}

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties


class OwnerNoteForm(forms.ModelForm):
    visible_to = forms.MultipleChoiceField(
        label=_("Visible to"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for every role."),
    )

    class Meta:
        model = OwnerNote
        fields = ["category", "text", "visible_to"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        from wuye.core.roles import ROLE_LABELS, ROLES

        super().__init__(*args, **kwargs)
        self.fields["visible_to"].choices = [(r, ROLE_LABELS[r]) for r in ROLES]


class ContractForm(forms.ModelForm):
    class Meta:
        model = ServiceContract
        fields = [
            "number",
            "signed_on",
            "start_date",
            "end_date",
            "pricing_mode",
            "commission_rate",
            "has_late_fee_clause",
            "late_fee_daily_rate",
            "late_fee_grace_days",
            "late_fee_cap_ratio",
            "late_fees_first",
        ]
        widgets = {"signed_on": DATE, "start_date": DATE, "end_date": DATE}


class EstateForm(forms.ModelForm):
    class Meta:
        model = Estate
        fields = [
            "name",
            "address",
            "hotline",
            "company_name",
            "late_fee_minimum",
            "fee_notice_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("late_fee_minimum", "fee_notice_days"):
            self.fields[name].required = False  # left empty: kept as it is

    def _keep(self, name):
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_late_fee_minimum(self):
        return self._keep("late_fee_minimum")

    def clean_fee_notice_days(self):
        return self._keep("fee_notice_days")


class CollectionAccountForm(forms.Form):
    bank_name = forms.CharField(
        label=_("Bank and branch"),
        max_length=100,
        required=False,
        help_text=_("e.g. 中国工商银行深圳南山支行"),
    )
    bank_account_name = forms.CharField(label=_("Account name"), max_length=100, required=False)
    bank_account_number = forms.CharField(
        label=_("Account number"),
        max_length=60,
        required=False,
        help_text=_(
            "Printed on payment notices with the owner's payment reference. All empty: none."
        ),
    )


class EstateCreateForm(forms.ModelForm):
    class Meta:
        model = Estate
        fields = ["code", "name", "address", "hotline", "company_name"]


class BuildingForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_("e.g. 1"))
    name = forms.CharField(
        label=_("Name"), max_length=50, required=False, help_text=_("Empty: the code + 栋")
    )
    floors = forms.IntegerField(label=_("Floors"), min_value=1, max_value=200, required=False)
