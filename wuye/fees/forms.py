"""Forms of the fees pages: they parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wuye.registry.models import Unit
from wuye.registry.selectors import estates_for, scope

from .models import FeeItem, SharedApportionment


class _EstateForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "estate" in self.fields:
            self.fields["estate"].queryset = estates_for(user)


class FeeItemForm(_EstateForm):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_("e.g. PROPERTY"))
    name = forms.CharField(label=_("Name"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=FeeItem.Kind.choices)
    basis = forms.ChoiceField(label=_("Basis"), choices=FeeItem.Basis.choices)
    meter_unit = forms.ChoiceField(
        label=_("Meter unit"), choices=[("", "—"), *FeeItem.MeterUnit.choices], required=False
    )
    cycle = forms.ChoiceField(label=_("Cycle"), choices=FeeItem.Cycle.choices)
    timing = forms.ChoiceField(label=_("Timing"), choices=FeeItem.Timing.choices)
    advance_days = forms.IntegerField(label=_("Days billed before the period"), min_value=0)
    due_days = forms.IntegerField(
        label=_("Days to pay"), min_value=0, help_text=_("Due date = bill date + this many days.")
    )
    rounding_unit = forms.ChoiceField(label=_("Round to"), choices=FeeItem.RoundingUnit.choices)
    rounding_mode = forms.ChoiceField(label=_("Rounding"), choices=FeeItem.RoundingMode.choices)
    treatment = forms.ChoiceField(
        label=_("Accounting treatment"), choices=FeeItem.Treatment.choices
    )
    online_payable = forms.BooleanField(label=_("Payable online"), required=False)
    prepayment_offset = forms.BooleanField(label=_("May be paid from prepayment"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "advance_days": 0,
                "due_days": 30,
                "online_payable": True,
                "prepayment_offset": True,
            },
        )
        super().__init__(*args, **kwargs)


class StandardForm(_EstateForm):
    fee_item = forms.ModelChoiceField(queryset=None, label=_("Fee item"))
    unit_type = forms.ChoiceField(
        label=_("Unit type"),
        choices=[("", _("All types")), *Unit.Type.choices],
        required=False,
    )
    rate = forms.DecimalField(label=_("Rate (yuan)"), max_digits=12, decimal_places=4)
    effective_from = forms.DateField(
        label=_("Effective from"), widget=forms.DateInput({"type": "date"})
    )
    vacancy_rate = forms.DecimalField(
        label=_("Share payable when vacant"),
        max_digits=5,
        decimal_places=4,
        required=False,
        help_text=_("e.g. 0.7 = 70 percent of the fee while an approved vacancy discount runs"),
    )
    filing_ref = forms.CharField(label=_("Filing reference"), max_length=50, required=False)
    complaint_phone = forms.CharField(
        label=_("Complaint phone"),
        max_length=30,
        required=False,
        help_text=_("Blank: the estate's hotline"),
    )
    service_content = forms.CharField(
        label=_("Service content"), widget=forms.Textarea({"rows": 4}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_item"].queryset = scope(
            FeeItem.objects.filter(is_active=True).select_related("estate"), self.user
        )
        self.fields["fee_item"].label_from_instance = lambda i: f"{i.estate} · {i.name} ({i.code})"


class VacancyForm(_EstateForm):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    unit_number = forms.CharField(label=_("Unit"), max_length=30, help_text=_("e.g. 1-2-301"))
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput({"type": "date"}))
    end_date = forms.DateField(
        label=_("Until"), widget=forms.DateInput({"type": "date"}), required=False
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea({"rows": 3}), required=False)

    def clean(self):
        data = super().clean()
        if data.get("estate") and data.get("unit_number"):
            unit = Unit.objects.filter(
                estate=data["estate"], number=data["unit_number"].strip()
            ).first()
            if unit is None:
                self.add_error("unit_number", _("No such unit in this estate."))
            data["unit"] = unit
        return data


class ReadingForm(_EstateForm):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    serial = forms.CharField(label=_("Meter serial"), max_length=40)
    read_on = forms.DateField(label=_("Read on"), widget=forms.DateInput({"type": "date"}))
    value = forms.DecimalField(
        label=_("Reading"),
        max_digits=14,
        decimal_places=3,
        min_value=0,
        widget=forms.NumberInput({"inputmode": "decimal", "step": "0.001"}),
    )


class ReadingImportForm(_EstateForm):
    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    file = forms.FileField(
        label=_("Readings file (.xlsx)"),
        help_text=_("Columns 表号/serial, 读数日期/read_on, 读数/value"),
    )


class ApportionmentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=SharedApportionment.Method.choices)
    formula = forms.CharField(
        label=_("Formula"),
        required=False,
        help_text=_("Weight per unit from area, floor, occupied, household; e.g. area * 0.7 + 10"),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)
    consumption = forms.DecimalField(
        label=_("Consumption"), max_digits=14, decimal_places=3, required=False
    )


# --- meters -------------------------------------------------------------------------------------
def _unit_numbers(text: str) -> list[str]:
    return [
        n
        for n in text.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
        if n.strip()
    ]


def units_named(estate, text: str) -> tuple[list[Unit], list[str]]:
    """The estate's units named in `text` (separated by commas, 、 or lines), and the names
    that match none."""
    names = [n.strip() for n in _unit_numbers(text or "")]
    found = {u.number: u for u in Unit.objects.filter(estate=estate, number__in=names)}
    return [found[n] for n in dict.fromkeys(names) if n in found], [
        n for n in names if n not in found
    ]


class MeterForm(_EstateForm):
    SCOPES = [("unit", _("A unit's own meter")), ("shared", _("A shared master meter (公摊)"))]

    estate = forms.ModelChoiceField(queryset=None, label=_("Estate"))
    fee_item = forms.ModelChoiceField(queryset=None, label=_("Fee item"))
    serial = forms.CharField(label=_("Meter serial"), max_length=40)
    scope = forms.ChoiceField(label=_("Kind"), choices=SCOPES, widget=forms.RadioSelect)
    unit_number = forms.CharField(
        label=_("Unit"), max_length=30, required=False, help_text=_("e.g. 1-2-301")
    )
    shared_units = forms.CharField(
        label=_("Shared by the units"),
        required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text=_("Unit numbers separated by commas; empty: every unit of the estate."),
    )
    installed_on = forms.DateField(
        label=_("Installed on"), required=False, widget=forms.DateInput({"type": "date"})
    )
    initial_reading = forms.DecimalField(
        label=_("First reading"),
        required=False,
        max_digits=14,
        decimal_places=3,
        min_value=0,
        help_text=_("The baseline the next reading is counted from."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_item"].queryset = scope(
            FeeItem.objects.filter(is_active=True, basis=FeeItem.Basis.METERED).select_related(
                "estate"
            ),
            self.user,
        )
        self.fields["fee_item"].label_from_instance = lambda i: f"{i.estate} · {i.name}"

    def clean(self):
        data = super().clean()
        estate = data.get("estate")
        if estate is None:
            return data
        item = data.get("fee_item")
        if item is not None and item.estate_id != estate.pk:
            self.add_error("fee_item", _("This fee item belongs to another estate."))
        data["unit"], data["units"] = None, []
        if data.get("scope") == "unit":
            number = (data.get("unit_number") or "").strip()
            data["unit"] = Unit.objects.filter(estate=estate, number=number).first()
            if data["unit"] is None:
                self.add_error("unit_number", _("No such unit in this estate."))
        else:
            data["units"], unknown = units_named(estate, data.get("shared_units", ""))
            if unknown:
                self.add_error(
                    "shared_units",
                    _("No such unit in this estate: %(units)s")
                    % {"units": ", ".join(unknown[:10])},
                )
        return data


class MeterReplaceForm(forms.Form):
    on = forms.DateField(label=_("Replaced on"), widget=forms.DateInput({"type": "date"}))
    final_reading = forms.DecimalField(
        label=_("Old meter's final reading"), max_digits=14, decimal_places=3, min_value=0
    )
    new_serial = forms.CharField(label=_("New meter's serial"), max_length=40)
    initial_reading = forms.DecimalField(
        label=_("New meter's initial reading"), max_digits=14, decimal_places=3, min_value=0
    )


class MeterRetireForm(forms.Form):
    on = forms.DateField(label=_("Retired on"), widget=forms.DateInput({"type": "date"}))
    final_reading = forms.DecimalField(
        label=_("Final reading"), required=False, max_digits=14, decimal_places=3, min_value=0
    )


class SharedUnitsForm(forms.Form):
    units = forms.CharField(
        label=_("Shared by the units"),
        required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text=_("Unit numbers separated by commas; empty: every unit of the estate."),
    )
