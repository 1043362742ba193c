"""Forms of the window: they parse; the services decide."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from wuye.core.money import format_yuan
from wuye.core.names import person_name

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
    terminal = forms.CharField(
        label=_("POS terminal"),
        max_length=32,
        required=False,
        help_text=_("The terminal number (终端号) printed on the POS slip."),
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
    # What the owner handed over in cash: only for the change due (找零); never posted.
    tendered = forms.DecimalField(
        label=_("Cash tendered"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        tendered, amount = data.get("tendered"), data.get("amount")
        if tendered is not None and data.get("method") != "cash":
            data["tendered"] = None  # change is given for cash only
        elif tendered is not None and amount is not None and tendered < amount:
            self.add_error(
                "tendered",
                _("the cash tendered (%(tendered)s) is less than the amount (%(amount)s)")
                % {"tendered": format_yuan(tendered), "amount": format_yuan(amount)},
            )
        return data

    def change_due(self):
        """找零: cash tendered minus the amount, or None."""
        data = self.cleaned_data
        if data.get("tendered") is None or data.get("amount") is None:
            return None
        return data["tendered"] - data["amount"]

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
        label=_("Note (the reason, if the count differs)"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    confirm_variance = forms.BooleanField(
        label=_("I have counted again: the difference is real"), required=False
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


class PaymentFilterForm(forms.Form):
    """The payment list's filters (all optional); the selector does the filtering."""

    date = forms.DateField(label=_("Date"), required=False)
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    owner = forms.CharField(label=_("Owner or payment reference"), max_length=100, required=False)
    method = forms.ChoiceField(
        label=_("Method"), choices=[("", _("any method")), *Payment.Channel.choices], required=False
    )
    cashier = forms.ModelChoiceField(
        label=_("Cashier"), queryset=None, required=False, empty_label=_("any cashier")
    )
    amount_min = forms.DecimalField(
        label=_("Amount from"), max_digits=12, decimal_places=2, required=False
    )
    amount_max = forms.DecimalField(
        label=_("Amount to"), max_digits=12, decimal_places=2, required=False
    )

    def __init__(self, *args, cashiers, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["cashier"]
        field.queryset = cashiers
        field.label_from_instance = person_name
        for f in self.fields.values():
            css = "form-select" if isinstance(f, forms.ChoiceField) else "form-control"
            f.widget.attrs.setdefault("class", f"{css} form-control-sm")
        self.fields["date"].widget.input_type = "date"

    def selector_params(self) -> dict:
        """The cleaned filters as `selectors.payments_for` keywords (nothing when invalid)."""
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "business_date": d["date"],
            "unit": d["unit"],
            "owner": d["owner"],
            "method": d["method"],
            "cashier_id": d["cashier"].pk if d["cashier"] else None,
            "amount_min": d["amount_min"],
            "amount_max": d["amount_max"],
        }
