"""Staff administration pages (supervisors): the list, add, edit, temporary password,
unlock, deactivate. Thin: each calls one service of wuye.accounts.services."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.names import person_name
from wuye.core.roles import ROLE_LABELS

from . import forms, selectors, services
from .middleware import SESSION_KEY


def _staff(request, pk: int):
    """A staff member the actor sees (another estate's is a 404, as everywhere)."""
    return get_object_or_404(selectors.staff_for(request.user), pk=pk)


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _once(request, user, password: str, title: str):
    """The temporary password, shown in this response only (never a message, never cached)."""
    response = render(
        request,
        "accounts/staff_password_once.html",
        {"person": user, "password": password, "title": title},
    )
    add_never_cache_headers(response)
    return response


@login_required
@permission_required("auth.view_user", raise_exception=True)
def staff_list(request):
    active = {"1": True, "0": False}.get(request.GET.get("active", "1"))
    staff = selectors.staff_for(request.user, q=request.GET.get("q", ""), active=active)
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    locked = selectors.locked_usernames([u.username for u in page])
    rows = [
        {
            "user": u,
            "name": person_name(u),
            "roles": [ROLE_LABELS.get(g.name, g.name) for g in u.groups.all()],
            "estates": [e.name for e in u.staff_profile.estates.all()]
            if hasattr(u, "staff_profile")
            else [],
            "phone": u.staff_profile.phone if hasattr(u, "staff_profile") else "",
            "locked": u.username in locked,
            "manage": services.may_manage(request.user, u),
        }
        for u in page
    ]
    return render(
        request,
        "accounts/staff_list.html",
        {"page": page, "rows": rows, "active": request.GET.get("active", "1")},
    )


@login_required
@permission_required("auth.add_user", raise_exception=True)
def staff_create(request):
    form = forms.StaffForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.staff_create(
                actor=request.user,
                full_name=data["full_name"],
                username=data["username"],
                phone=data["phone"],
                roles=data["roles"],
                estates=list(data["estates"]),
                password=data["password"] or None,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _once(request, user, password, _("Staff member added"))
    return render(request, "accounts/staff_form.html", {"form": form, "title": _("Add staff")})


@login_required
@permission_required("auth.change_user", raise_exception=True)
def staff_edit(request, pk: int):
    user = _staff(request, pk)
    if not services.may_manage(request.user, user):
        messages.error(
            request, _("%(name)s is not one of the staff you manage.") % {"name": person_name(user)}
        )
        return redirect("staff:list")
    profile = getattr(user, "staff_profile", None)
    initial = {
        "full_name": person_name(user),
        "phone": profile.phone if profile else "",
        "roles": [g.name for g in user.groups.all()],
        "estates": list(profile.estates.all()) if profile else [],
    }
    form = forms.StaffForm(request.POST or None, actor=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                actor=request.user,
                user=user,
                full_name=data["full_name"],
                phone=data["phone"],
                roles=data["roles"],
                estates=list(data["estates"]),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": data["full_name"]})
            return redirect("staff:list")
    title = _("Staff member %(name)s") % {"name": person_name(user)}
    return render(
        request, "accounts/staff_form.html", {"form": form, "title": title, "person": user}
    )


@login_required
@permission_required("auth.change_user", raise_exception=True)
def staff_password(request, pk: int):
    user = _staff(request, pk)
    form = forms.PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password = services.staff_password_reset(
                actor=request.user, user=user, password=form.cleaned_data["password"] or None
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _once(request, user, password, _("Temporary password given"))
    title = _("Temporary password for %(name)s") % {"name": person_name(user)}
    return render(
        request, "accounts/staff_form.html", {"form": form, "title": title, "person": user}
    )


@require_POST
@login_required
@permission_required("auth.change_user", raise_exception=True)
def staff_action(request, pk: int, action: str):
    user = _staff(request, pk)
    name = person_name(user)
    actions = {
        "unlock": (services.staff_unlock, _("%(name)s can log in again.")),
        "deactivate": (services.staff_deactivate, _("%(name)s is deactivated.")),
        "reactivate": (services.staff_reactivate, _("%(name)s is active again.")),
    }
    if action not in actions:
        raise Http404(action)
    service, done = actions[action]
    try:
        service(actor=request.user, user=user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"name": name})
    return redirect(reverse("staff:list") + ("?active=0" if action == "deactivate" else ""))


class PasswordChange(auth_views.PasswordChangeView):
    """The staff member's own password; ends the duty to replace a temporary one."""

    template_name = "accounts/password_change.html"
    form_class = forms.OwnPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user)
        self.request.session.pop(SESSION_KEY, None)
        messages.success(self.request, _("Your password is changed."))
        return response
