"""Staff forms of online payments (validation at the edge; the services decide)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BankFileLayout, PaymentOrder, Provider


class TransferForm(forms.Form):
    """A transfer typed from the bank's advice. Who paid is the payment reference in the memo,
    or the unit staff picked from a search (`unit`): the memo is never edited to name it."""

    memo = forms.CharField(
        label=_("Memo (with the payment reference)"), max_length=255, required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0)
    bank_ref = forms.CharField(label=_("Bank reference"), max_length=64)
    payer_name = forms.CharField(label=_("Paid by"), max_length=100, required=False)
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)

    TEXT_FIELDS = ("memo", "amount", "bank_ref", "payer_name")


class StatementForm(forms.Form):
    file = forms.FileField(label=_("Bank statement (.xlsx, .csv or MT940)"))


class WindowForm(forms.Form):
    party = forms.IntegerField(widget=forms.HiddenInput)
    charges = forms.CharField(widget=forms.HiddenInput)
    provider = forms.ChoiceField(label=_("Provider"), choices=Provider.choices)
    how = forms.ChoiceField(
        label=_("How"),
        choices=[("code", _("Scan the owner's payment code")), ("qr", _("Show a QR code"))],
    )
    auth_code = forms.CharField(label=_("Payment code"), max_length=32, required=False)


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All"))] + PaymentOrder.Status.choices, required=False
    )
    q = forms.CharField(label=_("Order or transaction number"), required=False)


class BatchForm(forms.Form):
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=BankFileLayout.objects.all())
    debit_date = forms.DateField(
        label=_("Debit date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ReturnFileForm(forms.Form):
    file = forms.FileField(label=_("Return file from the bank"))


class ResolveForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("credit", _("Credit")),
            ("refund", _("Refund")),
            ("write_off", _("Ask to write off")),
            ("approve_write_off", _("Approve the write-off")),
            ("withdraw_write_off", _("Withdraw the write-off")),
        ]
    )
    note = forms.CharField(label=_("Note or reason"), max_length=255, required=False)
