"""Forms of the window: they parse; the services decide."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Payment

WINDOW_METHODS = [
    (c, label) for c, label in Payment.Channel.choices if c in Payment.WINDOW_CHANNELS
]


class TakePaymentForm(forms.Form):
    """Take a payment for the ticked charges; `token` is a one-time hidden value, so a double
    click or a resent form posts once."""

    token = forms.CharField(widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label=_("Amount received"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(label=_("Method"), choices=WINDOW_METHODS, initial="cash")
    external_ref = forms.CharField(
        label=_("Reference (POS voucher, bank ref)"), max_length=64, required=False
    )
    keep_change = forms.BooleanField(label=_("Keep the rest as prepayment"), required=False)
    earmark = forms.ModelChoiceField(
        label=_("Prepayment for"), queryset=None, required=False, empty_label=_("any fee")
    )
    round_off = forms.BooleanField(label=_("Round off small change (抹零)"), required=False)
    ahead_item = forms.ModelChoiceField(
        label=_("Pay ahead"), queryset=None, required=False, empty_label=_("—")
    )
    ahead_months = forms.IntegerField(label=_("months"), min_value=1, max_value=120, required=False)
    payer_name = forms.CharField(label=_("Paid by"), max_length=100, required=False)

    def __init__(self, *args, fee_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["earmark"].queryset = fee_items
        self.fields["ahead_item"].queryset = fee_items.filter(
            basis__in=["per_area_month", "per_unit_month"]
        )
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field, forms.BooleanField) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)


class ShiftOpenForm(forms.Form):
    float_amount = forms.DecimalField(
        label=_("Float"),
        max_digits=12,
        decimal_places=2,
        initial="0.00",
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
    )


class ShiftCloseForm(forms.Form):
    counted_cash = forms.DecimalField(
        label=_("Counted cash"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
    )
    counted_pos = forms.DecimalField(
        label=_("POS total"),
        max_digits=12,
        decimal_places=2,
        initial="0.00",
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class ReversalForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("void", _("Void")), ("refund", _("Refund prepayment"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    from_prepayment = forms.DecimalField(
        label=_("Refund from prepayment"),
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=255, widget=forms.TextInput(attrs={"class": "form-control"})
    )


class InvoiceRequestForm(forms.Form):
    title = forms.CharField(
        label=_("Invoice title"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    tax_number = forms.CharField(
        label=_("Tax number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"class": "form-control"})
    )


class InvoiceIssueForm(forms.Form):
    invoice_number = forms.CharField(
        label=_("Invoice number"),
        max_length=40,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    invoice_file = forms.FileField(label=_("File"), required=False)
