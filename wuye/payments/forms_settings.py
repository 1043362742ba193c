"""Forms of the window's settings and the pay-ahead offers: they parse; the services decide."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from wuye.fees.models import FeeItem
from wuye.registry.selectors import estates_for, scope

from .models import CashierSettings


class CashierSettingsForm(forms.Form):
    round_small_change = forms.BooleanField(
        label=_("Cashiers may round off small change (抹零)"),
        required=False,
        help_text=_("What is dropped is recorded as a waiver on the charge."),
    )
    round_unit = forms.ChoiceField(label=_("Round off"), choices=CashierSettings.RoundUnit.choices)
    prepayment_cap_months = forms.IntegerField(
        label=_("Prepayment cap (months of fees)"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Neither paying ahead nor a prepayment balance may go beyond; empty: no cap."),
    )
    receipt_paper = forms.ChoiceField(
        label=_("Receipt paper"), choices=CashierSettings.Paper.choices
    )
    receipt_note = forms.CharField(
        label=_("Note printed on receipts"), max_length=200, required=False
    )


class OfferForm(forms.Form):
    estate = forms.ModelChoiceField(label=_("Estate"), queryset=None)
    fee_item = forms.ModelChoiceField(label=_("Fee item"), queryset=None)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("As the owner reads it, e.g. 预交12个月送1个月"),
    )
    min_months = forms.IntegerField(label=_("For paying at least (months)"), min_value=1)
    free_months = forms.IntegerField(
        label=_("Months free"), min_value=0, initial=0, help_text=_("12+1: 12 here above, 1 here.")
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (percent)"),
        min_value=Decimal("0"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        initial=0,
        help_text=_("e.g. 5 for 5 percent off every month paid ahead"),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput({"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until (early bird)"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
    )
    none_while_in_arrears = forms.BooleanField(
        label=_("Not while the unit has arrears"), required=False, initial=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)
        self.fields["fee_item"].queryset = scope(
            FeeItem.objects.filter(
                is_active=True, basis__in=FeeItem.RECURRING_BASES
            ).select_related("estate"),
            user,
        )
        self.fields["fee_item"].label_from_instance = lambda i: f"{i.estate} · {i.name}"

    def clean(self):
        data = super().clean()
        item, estate = data.get("fee_item"), data.get("estate")
        if item and estate and item.estate_id != estate.pk:
            self.add_error("fee_item", _("This fee item belongs to another estate."))
        return data
