"""REST endpoints of staff administration under /api/v1/staff/ (the rules are those of
wuye.accounts.services: supervisors, within their own estates and roles).

The answers that carry a temporary password (creating staff, a password reset) are not
stored for `Idempotency-Key` replays: a replay would keep the password in clear. A retried
create answers "the login name is taken", which is safe to read as done."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.core.names import person_name
from wuye.core.roles import ROLES
from wuye.registry.models import Estate

from . import selectors, services


class CanSeeStaff(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("auth.view_user"))


class StaffOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    login = serializers.CharField(source="username", help_text="what the person logs in with")
    phone = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    estates = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    locked = serializers.SerializerMethodField()
    manageable = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return person_name(user)

    def get_phone(self, user) -> str:
        profile = getattr(user, "staff_profile", None)
        return profile.phone if profile else ""

    def get_roles(self, user) -> list[str]:
        return sorted(g.name for g in user.groups.all())

    def get_estates(self, user) -> list[int]:
        profile = getattr(user, "staff_profile", None)
        return sorted(e.pk for e in profile.estates.all()) if profile else []

    def get_locked(self, user) -> bool:
        return user.username in self.context.get("locked", set())

    def get_manageable(self, user) -> bool:
        return services.may_manage(self.context["request"].user, user)


class StaffInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))
    estates = serializers.PrimaryKeyRelatedField(
        queryset=Estate.objects.all(), many=True, required=False, default=list
    )


class StaffCreateInput(StaffInput):
    login = serializers.CharField(max_length=150)
    password = serializers.CharField(required=False, allow_blank=True, write_only=True)


class PasswordInput(serializers.Serializer):
    password = serializers.CharField(required=False, allow_blank=True, write_only=True)


class TemporaryPassword(serializers.Serializer):
    staff = StaffOutput()
    temporary_password = serializers.CharField()


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _Staff(GenericAPIView):
    permission_classes = [CanSeeStaff]
    serializer_class = StaffOutput

    def get_queryset(self):
        return selectors.staff_for(self.request.user)

    def staff(self, pk: int):
        return get_object_or_404(self.get_queryset(), pk=pk)

    def out(self, user) -> dict:
        user = get_user_model().objects.prefetch_related("groups").get(pk=user.pk)
        locked = selectors.locked_usernames([user.username])
        return StaffOutput(user, context={"request": self.request, "locked": locked}).data


class StaffList(_Staff):
    """Staff of your estates (`?q=` name, login or phone); add one (auth.add_user): the answer
    holds the temporary password, once."""

    @extend_schema(operation_id="staff_list", responses=StaffOutput(many=True))
    def get(self, request: Request) -> Response:
        qs = selectors.staff_for(request.user, q=request.query_params.get("q", ""))
        page = self.paginate_queryset(qs)
        locked = selectors.locked_usernames([u.username for u in page])
        data = StaffOutput(page, many=True, context={"request": request, "locked": locked}).data
        return self.get_paginated_response(data)

    @extend_schema(request=StaffCreateInput, responses={201: TemporaryPassword})
    def post(self, request: Request) -> Response:
        data = _valid(StaffCreateInput, request)
        user, password = services.staff_create(
            actor=request.user,
            full_name=data["full_name"],
            username=data["login"],
            phone=data["phone"],
            roles=data["roles"],
            estates=data["estates"],
            password=data.get("password") or None,
        )
        return Response(
            {"staff": self.out(user), "temporary_password": password},
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


class StaffDetail(_Staff):
    """One staff member; PUT changes name, phone, roles and estates."""

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.out(self.staff(pk)))

    @extend_schema(request=StaffInput, responses=StaffOutput)
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        data = _valid(StaffInput, request)
        user = services.staff_update(actor=request.user, user=self.staff(pk), **data)
        return Response(self.out(user))


class StaffPassword(_Staff):
    """Give a temporary password (typed, or made when empty); the answer holds it, once."""

    @extend_schema(request=PasswordInput, responses=TemporaryPassword)
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(PasswordInput, request)
        user = self.staff(pk)
        password = services.staff_password_reset(
            actor=request.user, user=user, password=data.get("password") or None
        )
        return Response(
            {"staff": self.out(user), "temporary_password": password},
            headers={"Cache-Control": "no-store"},
        )


class _Action(_Staff):
    service = None

    @extend_schema(request=None, responses=StaffOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = type(self).service(actor=request.user, user=self.staff(pk))
        return Response(self.out(user if hasattr(user, "pk") else self.staff(pk)))


class StaffUnlock(_Action):
    """Lift the lock failed logins put on the account."""

    service = staticmethod(services.staff_unlock)


class StaffDeactivate(_Action):
    """A leaver: the account can no longer log in."""

    service = staticmethod(services.staff_deactivate)


class StaffReactivate(_Action):
    """Undo a deactivation."""

    service = staticmethod(services.staff_reactivate)


urlpatterns = [
    path("staff/", StaffList.as_view(), name="staff-list"),
    path("staff/<int:pk>/", StaffDetail.as_view(), name="staff-detail"),
    path("staff/<int:pk>/password/", StaffPassword.as_view(), name="staff-password"),
    path("staff/<int:pk>/unlock/", StaffUnlock.as_view(), name="staff-unlock"),
    path("staff/<int:pk>/deactivate/", StaffDeactivate.as_view(), name="staff-deactivate"),
    path("staff/<int:pk>/reactivate/", StaffReactivate.as_view(), name="staff-reactivate"),
]
