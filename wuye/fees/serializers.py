"""Input and output shapes of the fees API (HackSoft style: explicit, one pair per use).

Inputs only parse; the services enforce the rules (rate limits naming the item, versions,
approvals) and their DomainError becomes a 400 naming the field. Related objects in input are
looked up within the user's estates only."""

from rest_framework import serializers

from wuye.registry.models import Estate, Unit
from wuye.registry.serializers import ScopedRelatedField

from .models import FeeItem, FeeStandard, Meter


class FeeItemOutput(serializers.ModelSerializer):
    months = serializers.IntegerField(read_only=True)
    gl_account = serializers.CharField(read_only=True)

    class Meta:
        model = FeeItem
        fields = [
            "id",
            "estate",
            "code",
            "name",
            "kind",
            "basis",
            "meter_unit",
            "cycle",
            "months",
            "timing",
            "advance_days",
            "due_days",
            "rounding_unit",
            "rounding_mode",
            "online_payable",
            "prepayment_offset",
            "treatment",
            "gl_account",
            "is_active",
        ]
        read_only_fields = fields


class FeeItemInput(serializers.Serializer):
    estate = ScopedRelatedField(queryset=Estate.objects.all(), scope_field="id")
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=50)
    kind = serializers.ChoiceField(choices=FeeItem.Kind.choices)
    basis = serializers.ChoiceField(choices=FeeItem.Basis.choices)
    meter_unit = serializers.ChoiceField(
        choices=FeeItem.MeterUnit.choices, required=False, allow_blank=True
    )
    cycle = serializers.ChoiceField(choices=FeeItem.Cycle.choices, required=False)
    timing = serializers.ChoiceField(choices=FeeItem.Timing.choices, required=False)
    advance_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    due_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    rounding_unit = serializers.ChoiceField(choices=FeeItem.RoundingUnit.choices, required=False)
    rounding_mode = serializers.ChoiceField(choices=FeeItem.RoundingMode.choices, required=False)
    online_payable = serializers.BooleanField(required=False)
    prepayment_offset = serializers.BooleanField(required=False)
    treatment = serializers.ChoiceField(choices=FeeItem.Treatment.choices, required=False)


class FeeStandardOutput(serializers.ModelSerializer):
    fee_item_code = serializers.CharField(source="fee_item.code", read_only=True)
    notice_url = serializers.SerializerMethodField()

    class Meta:
        model = FeeStandard
        fields = [
            "id",
            "estate",
            "fee_item",
            "fee_item_code",
            "unit_type",
            "version",
            "rate",
            "effective_from",
            "effective_to",
            "filing_ref",
            "pricing_mode",
            "service_content",
            "complaint_phone",
            "vacancy_rate",
            "status",
            "approved_by",
            "approved_at",
            "published_by",
            "published_at",
            "notice_url",
        ]
        read_only_fields = fields

    def get_notice_url(self, obj: FeeStandard) -> str | None:
        if not obj.notice_pdf:
            return None
        from django.urls import reverse

        return reverse("fees:standard_notice", args=[obj.pk])


class FeeStandardInput(serializers.Serializer):
    fee_item = ScopedRelatedField(queryset=FeeItem.objects.all())
    unit_type = serializers.ChoiceField(choices=Unit.Type.choices, required=False, allow_blank=True)
    # Parsed as text so that the service names the item when the rate is refused.
    rate = serializers.CharField(max_length=30)
    effective_from = serializers.DateField()
    filing_ref = serializers.CharField(max_length=50, required=False, allow_blank=True)
    service_content = serializers.CharField(required=False, allow_blank=True)
    complaint_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    vacancy_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, allow_null=True
    )


class WithdrawInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


# --- meters ---------------------------------------------------------------------------------
class MeterOutput(serializers.ModelSerializer):
    shared_units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Meter
        fields = [
            "id",
            "estate",
            "fee_item",
            "serial",
            "kind",
            "unit",
            "shared_units",
            "is_active",
            "installed_on",
            "retired_on",
            "replaces",
        ]
        read_only_fields = fields


class MeterInput(serializers.Serializer):
    estate = ScopedRelatedField(queryset=Estate.objects.all(), scope_field="id")
    fee_item = ScopedRelatedField(queryset=FeeItem.objects.all())
    serial = serializers.CharField(max_length=40)
    unit = ScopedRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
    shared_units = ScopedRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    installed_on = serializers.DateField(required=False, allow_null=True)
    # text, so that the service names the meter when the value is refused
    initial_reading = serializers.CharField(max_length=30, required=False, allow_blank=True)


class MeterReplaceInput(serializers.Serializer):
    on = serializers.DateField()
    final_reading = serializers.CharField(max_length=30)
    new_serial = serializers.CharField(max_length=40)
    initial_reading = serializers.CharField(max_length=30)


class MeterRetireInput(serializers.Serializer):
    on = serializers.DateField()
    final_reading = serializers.CharField(max_length=30, required=False, allow_blank=True)


class MeterUnitsInput(serializers.Serializer):
    units = ScopedRelatedField(queryset=Unit.objects.all(), many=True)
