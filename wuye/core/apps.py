from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuye.core"
    verbose_name = "wuye core"

    def ready(self) -> None:
        _plain_decimals_only()


def _plain_decimals_only() -> None:
    """Every decimal field of a form or of the API refuses what `money.plain_decimal` refuses
    ("1e3" was taken as 1000.00): one parser, installed once here rather than a subclass to
    remember in each of the many forms and serializers."""
    from django import forms
    from rest_framework import serializers

    from .money import plain_decimal

    form_to_python = forms.DecimalField.to_python

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, float):
            try:
                plain_decimal(value)
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
        return form_to_python(self, value)

    forms.DecimalField.to_python = to_python

    api_to_internal = serializers.DecimalField.to_internal_value

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip():
            try:
                plain_decimal(data)
            except ValueError:
                self.fail("invalid")
        return api_to_internal(self, data)

    serializers.DecimalField.to_internal_value = to_internal_value
