"""Staff administration: a supervisor adds staff, gives them roles and estates, resets a
forgotten password, unlocks a login locked by failed attempts, and deactivates a leaver.
Each function is one transaction and writes its audit row (the password itself never).

Who may do what (decided here; the page and the API only ask these functions):
- Managing staff needs `auth.change_user` (creating also `auth.add_user`): supervisors.
- Estates: an actor grants only estates they work for themselves (all, with
  `registry.access_all_estates`). Staff whose estates are not all among the actor's belong
  to another estate's supervisor too and are not the actor's to change.
- Roles: an actor grants the roles they hold themselves and the working roles that report
  to a supervisor (`REPORTING_ROLES`); a role that sees every estate (auditor) only an actor
  who sees every estate. Staff holding a role the actor may not grant are not the actor's
  to change either: a supervisor cannot reset an auditor's password and log in as them.
- Nobody manages their own account here (their own password: the "change password" page);
  superusers are managed from the command line only.
- A temporary password (generated, or typed by the supervisor) is shown once and never
  stored in clear or in a message; the staff member must choose a new one at their next
  login (`StaffProfile.must_change_password`, enforced by `PasswordChangeRequired`).
- A person is named by their whole name in `last_name` (see wuye.core.names).
"""

import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.names import person_name
from wuye.core.normalize import clean_phone, clean_text, is_valid_phone
from wuye.core.roles import ROLE_LABELS, ROLES
from wuye.registry.models import Estate, StaffProfile
from wuye.registry.selectors import visible_estate_ids

# The working roles a supervisor appoints (DESIGN.md §1); supervisor and auditor are not
# among them: only who holds the role (or sees every estate) grants it.
REPORTING_ROLES = ["cashier", "collector", "customer_service", "engineering", "security", "finance"]
ALL_ESTATES_PERM = "registry.access_all_estates"
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _estate_ids_of(user) -> set[int]:
    profile = StaffProfile.objects.filter(user=user).first()
    return set(profile.estates.values_list("id", flat=True)) if profile else set()


def grantable_roles(actor) -> list[str]:
    """The roles `actor` may give, in the order of DESIGN.md §1."""
    if actor is None or not actor.has_perm("auth.change_user"):
        return []
    held = _roles_of(actor)
    everywhere = visible_estate_ids(actor) is None
    return [r for r in ROLES if everywhere or r in held or r in REPORTING_ROLES]


def grantable_estates(actor):
    """The estates `actor` may give: their own (every active one if they see all)."""
    ids = visible_estate_ids(actor)
    qs = Estate.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)


def may_manage(actor, user) -> bool:
    """Whether `user`'s account is `actor`'s to change (see the module docstring)."""
    if actor is None or user is None or not actor.has_perm("auth.change_user"):
        return False
    if user.pk == actor.pk or user.is_superuser:
        return False
    mine = visible_estate_ids(actor)
    if mine is not None and not _estate_ids_of(user) <= mine:
        return False
    if user.has_perm(ALL_ESTATES_PERM) and mine is not None:
        return False
    return _roles_of(user) <= set(grantable_roles(actor))


def require_manage(actor, user) -> None:
    if not may_manage(actor, user):
        raise PermissionDenied(
            _("%(name)s is not one of the staff you manage") % {"name": person_name(user)}
        )


def temporary_password() -> str:
    """12 characters of letters and digits (both present), none easily misread (0/O, 1/l)."""
    while True:
        word = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
            return word


def _audit(actor, user, summary: Summary, before=None, after=None, action=None) -> None:
    audit_record(
        actor=actor,
        action=action or AuditEvent.Action.UPDATE,
        subject=user,
        subject_repr=person_name(user),
        summary=summary,
        before=before,
        after=after,
    )


def _clean_name(full_name: str) -> str:
    name = clean_text(full_name)
    if not name:
        raise DomainError(_("enter the staff member's full name"), field="full_name")
    if len(name) > 150:
        raise DomainError(_("the name is longer than 150 characters"), field="full_name")
    return name


def _clean_phone(phone: str) -> str:
    phone = clean_phone(phone or "")
    if phone and not is_valid_phone(phone):
        raise DomainError(
            _("not a valid phone number: %(phone)s") % {"phone": phone}, field="phone"
        )
    return phone


def _checked_grants(actor, roles: Iterable[str], estates: Iterable[Estate]):
    roles = sorted(set(roles), key=ROLES.index) if set(roles) <= set(ROLES) else None
    if roles is None:
        raise DomainError(_("unknown role"), field="roles")
    if not roles:
        raise DomainError(_("choose at least one role"), field="roles")
    allowed = set(grantable_roles(actor))
    refused = [r for r in roles if r not in allowed]
    if refused:
        raise PermissionDenied(
            _("you may not give the role %(role)s")
            % {"role": ", ".join(ROLE_LABELS.get(r, r) for r in refused)},
            field="roles",
        )
    estates = list(estates)
    mine = visible_estate_ids(actor)
    foreign = [e for e in estates if mine is not None and e.pk not in mine]
    if foreign:
        raise PermissionDenied(
            _("%(estate)s is not one of your estates") % {"estate": foreign[0]}, field="estates"
        )
    if not estates and not any(r == "auditor" for r in roles):
        raise DomainError(_("choose the estates the staff member works for"), field="estates")
    return roles, estates


def _grant(user, roles: list[str], estates: list[Estate]) -> None:
    user.groups.set(Group.objects.filter(name__in=roles))
    profile, __ = StaffProfile.objects.get_or_create(user=user)
    profile.estates.set(estates)


def _picture(user) -> dict:
    profile = StaffProfile.objects.filter(user=user).first()
    return {
        "name": person_name(user, login_fallback=False),
        "phone": profile.phone if profile else "",
        "roles": sorted(_roles_of(user)),
        "estates": sorted(profile.estates.values_list("code", flat=True)) if profile else [],
        "active": user.is_active,
    }


def _set_password(user, password: str | None) -> str:
    """The password given (checked by the site's password rules) or a generated one."""
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from exc
    else:
        password = temporary_password()
    user.set_password(password)
    return password


@transaction.atomic
def staff_create(
    *,
    actor,
    full_name: str,
    username: str,
    roles: Iterable[str],
    estates: Iterable[Estate],
    phone: str = "",
    password: str | None = None,
):
    """A new staff account; returns (user, the temporary password to hand over once)."""
    if not actor.has_perm("auth.add_user"):
        raise PermissionDenied(_("your role may not add staff"))
    name, phone = _clean_name(full_name), _clean_phone(phone)
    username = clean_text(username)
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="username") from exc
    if not username:
        raise DomainError(_("enter the login name"), field="username")
    roles, estates = _checked_grants(actor, roles, estates)
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(
            _("the login name %(login)s is taken") % {"login": username}, field="username"
        )
    user = User(username=username, last_name=name, first_name="")
    password = _set_password(user, password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise DomainError(
            _("the login name %(login)s is taken") % {"login": username}, field="username"
        ) from exc
    _grant(user, roles, estates)
    StaffProfile.objects.filter(user=user).update(phone=phone, must_change_password=True)
    _audit(
        actor,
        user,
        Summary(gettext_noop("staff added")),
        after=_picture(user),
        action=AuditEvent.Action.CREATE,
    )
    return user, password


@transaction.atomic
def staff_update(
    *,
    actor,
    user,
    full_name: str,
    roles: Iterable[str],
    estates: Iterable[Estate],
    phone: str = "",
):
    """Change a staff member's name, phone, roles and estates."""
    require_manage(actor, user)
    name, phone = _clean_name(full_name), _clean_phone(phone)
    roles, estates = _checked_grants(actor, roles, estates)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    before = _picture(user)
    user.last_name, user.first_name = name, ""
    user.save(update_fields=["last_name", "first_name"])
    _grant(user, roles, estates)
    StaffProfile.objects.filter(user=user).update(phone=phone)
    after = _picture(user)
    if after != before:
        old = {k: v for k, v in before.items() if after[k] != v}
        _audit(actor, user, Summary(gettext_noop("staff changed")), old, {k: after[k] for k in old})
    return user


@transaction.atomic
def staff_password_reset(*, actor, user, password: str | None = None) -> str:
    """Give `user` a temporary password (`password`, or a generated one, returned to be shown
    once); they must choose their own at the next login. Also lifts a lock."""
    require_manage(actor, user)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise DomainError(
            _("%(name)s is deactivated; reactivate the account first") % {"name": person_name(user)}
        )
    password = _set_password(user, password)
    user.save(update_fields=["password"])
    profile, __ = StaffProfile.objects.get_or_create(user=user)
    StaffProfile.objects.filter(pk=profile.pk).update(must_change_password=True)
    _unlock(user)
    _audit(actor, user, Summary(gettext_noop("temporary password given")))
    return password


def _unlock(user) -> int:
    from axes.utils import reset

    return reset(username=user.username)


@transaction.atomic
def staff_unlock(*, actor, user) -> int:
    """Lift the lock failed logins put on `user` (django-axes); returns the attempts cleared."""
    require_manage(actor, user)
    cleared = _unlock(user)
    _audit(
        actor,
        user,
        Summary(gettext_noop("login unlocked (%(n)s failed attempts cleared)"), n=cleared),
    )
    return cleared


@transaction.atomic
def staff_deactivate(*, actor, user):
    """A leaver: the account can no longer log in (sessions and API tokens stop working at
    their next request); everything they did stays theirs in the records."""
    require_manage(actor, user)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        _audit(
            actor,
            user,
            Summary(gettext_noop("staff deactivated")),
            {"active": True},
            {"active": False},
        )
    return user


@transaction.atomic
def staff_reactivate(*, actor, user):
    """Undo a deactivation (someone back from leave); a new temporary password follows."""
    require_manage(actor, user)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        _audit(
            actor,
            user,
            Summary(gettext_noop("staff reactivated")),
            {"active": False},
            {"active": True},
        )
    return user


@transaction.atomic
def password_changed(*, user) -> None:
    """The staff member chose their own password: the temporary one's duty ends."""
    done = StaffProfile.objects.filter(user=user, must_change_password=True).update(
        must_change_password=False
    )
    _audit(
        user,
        user,
        Summary(gettext_noop("password changed (temporary one replaced)"))
        if done
        else Summary(gettext_noop("password changed")),
    )


def lockout_minutes() -> int:
    return round(float(getattr(settings, "AXES_COOLOFF_TIME", 0) or 0) * 60)
