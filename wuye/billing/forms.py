"""Forms of the billing pages: they parse and look up what the user names (a unit by its
number in an estate of theirs); the services decide. A DomainError from a service goes onto
the form next to the field it names (`add_domain_error`)."""

import uuid

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.errors import DomainError
from wuye.fees.models import FeeItem
from wuye.registry.models import Unit
from wuye.registry.selectors import estates_for, scope

from .models import DepositRelease
from .periods import Period


def add_domain_error(form: forms.Form, err: DomainError) -> None:
    """Show a service's refusal next to the field it names (else above the form)."""
    form.add_error(err.field if err.field in form.fields else None, err.message)


class _Styled(forms.Form):
    """Bootstrap classes on every widget; a one-time `token` so a double click posts once."""

    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def key(self, user, action: str) -> str | None:
        """The idempotency key of this submission (None without a token)."""
        token = (self.cleaned_data.get("token") or "").strip()[:40]
        return f"ui:{action}:{user.pk}:{token}" if token else None


def _money_field(label=None):
    return forms.DecimalField(
        label=label or _("Amount"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class RunForm(forms.Form):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("YYYY-MM"))
    as_of = forms.DateField(
        label=_("Run date"),
        required=False,
        help_text=_("Items whose bill date is later wait; empty means today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select" if hasattr(field, "queryset") else "form-control"
            )

    def clean_period(self):
        try:
            return str(Period.parse(self.cleaned_data["period"]))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class _UnitInEstate(_Styled):
    """An estate of the user's and a unit number in it; `clean` finds the unit."""

    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    unit = forms.CharField(label=_("Unit"), max_length=30, help_text=_("e.g. 1-1-301"))
    fee_item = forms.ModelChoiceField(queryset=None, label=_("Fee item"))

    def __init__(self, *args, user, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)
        self.fields["fee_item"].queryset = scope(items, user).select_related("estate")
        self.fields["fee_item"].label_from_instance = lambda i: f"{i.estate.code} · {i.name}"

    def clean(self):
        data = super().clean()
        estate, number = data.get("estate"), (data.get("unit") or "").strip()
        if estate and number:
            unit = Unit.objects.filter(estate=estate, number=number).first()
            if unit is None:
                self.add_error(
                    "unit",
                    _("%(estate)s has no unit %(number)s")
                    % {
                        "estate": estate.name,
                        "number": number,
                    },
                )
            data["unit_obj"] = unit
        return data


class AdhocChargeForm(_UnitInEstate):
    """A one-off charge on a unit: a paid repair from a work order, a replacement card, money
    collected on behalf of a utility (代收, a pass-through), a deposit."""

    amount = _money_field()
    description = forms.CharField(
        label=_("What for"),
        max_length=160,
        help_text=_("Printed on the bill, e.g. 'Repair of the kitchen tap, work order WO-0012'."),
    )
    bill_date = _date_field(_("Bill date"), required=False, help_text=_("Empty means today."))
    due_date = _date_field(_("Due date"), required=False, help_text=_("Empty means the bill date."))

    field_order = ["estate", "unit", "fee_item", "amount", "description", "bill_date", "due_date"]

    def __init__(self, *args, user, **kwargs):
        # One-off items and whatever is not revenue (deposits, pass-through): the recurring fees
        # are billed by runs.
        items = FeeItem.objects.filter(is_active=True).filter(
            Q(basis=FeeItem.Basis.ONE_OFF) | ~Q(treatment=FeeItem.Treatment.REVENUE)
        )
        super().__init__(*args, user=user, items=items.order_by("estate_id", "code"), **kwargs)


class FeeStopForm(_UnitInEstate):
    """A unit's recurring fee stops from a date (sold back, merged, demolished)."""

    from_date = _date_field(_("Stops from"))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    field_order = ["estate", "unit", "fee_item", "from_date", "reason"]

    def __init__(self, *args, user, **kwargs):
        items = FeeItem.objects.filter(basis__in=FeeItem.RECURRING_BASES).order_by(
            "estate_id", "code"
        )
        super().__init__(*args, user=user, items=items, **kwargs)


class WaiverForm(_Styled):
    amount = _money_field()
    reason = forms.CharField(label=_("Reason"), max_length=255)


class CreditNoteForm(_Styled):
    """Lower a charge raised too high (紅字)."""

    amount = _money_field()
    reason = forms.CharField(label=_("Reason"), max_length=255)


class DebitNoteForm(_Styled):
    """Raise more on a charge raised too low (補收): a new charge pointing at this one."""

    amount = _money_field()
    reason = forms.CharField(label=_("Reason"), max_length=255)


class DepositReleaseForm(_Styled):
    """Ask to give back or keep (part of) a paid deposit; a supervisor decides."""

    action = forms.ChoiceField(label=_("Action"), choices=DepositRelease.Action.choices)
    amount = _money_field()
    reason = forms.CharField(label=_("Reason"), max_length=255)


class PeriodCloseForm(_Styled):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("YYYY-MM"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)

    def clean_period(self):
        try:
            return str(Period.parse(self.cleaned_data["period"]))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class RunCancelForm(_Styled):
    reason = forms.CharField(label=_("Reason"), max_length=255)
