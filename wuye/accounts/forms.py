"""Forms of staff administration: they parse; wuye.accounts.services decides."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from wuye.core.roles import ROLE_LABELS

from . import services


class StaffForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    username = forms.CharField(
        label=_("Login name"),
        max_length=150,
        help_text=_("What the staff member types to log in, e.g. their mobile number."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    estates = forms.ModelMultipleChoiceField(
        label=_("Estates"), widget=forms.CheckboxSelectMultiple, queryset=None, required=False
    )
    password = forms.CharField(
        label=_("Temporary password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to have one made; it is shown once."),
    )

    def __init__(self, *args, actor, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [
            (r, ROLE_LABELS.get(r, r)) for r in services.grantable_roles(actor)
        ]
        self.fields["estates"].queryset = services.grantable_estates(actor)
        if editing:
            del self.fields["username"]
            del self.fields["password"]


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("Temporary password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to have one made; it is shown once."),
    )


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form, refusing the temporary password as the new one."""

    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1")
        if new and self.user.check_password(new):
            raise forms.ValidationError(
                _("Choose a password different from the current one."), code="password_same"
            )
        return new
