"""Logins and failed logins go to the audit log."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.names import person_name


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        from wuye.registry.models import StaffProfile

        from .middleware import SESSION_KEY

        must = StaffProfile.objects.filter(user_id=user.pk, must_change_password=True).exists()
        request.session[SESSION_KEY] = must
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGIN,
        subject=user,
        subject_repr=person_name(user),
        summary=Summary(gettext_noop("login")),
    )


@receiver(user_login_failed)
def record_failed_login(sender, credentials, request=None, **kwargs):
    """The login typed is kept as the subject id (the evidence of what was tried); the log
    names the person when the login is someone's."""
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first()
    who = person_name(user) if user is not None else username
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        subject_type="auth.user",
        subject_id=str(user.pk) if user is not None else username,
        subject_repr=who,
        summary=Summary(gettext_noop("failed login for %(who)s"), who=who),
    )
