"""Staff administration through the pages: a supervisor adds staff, gives roles and estates
within their own, hands out temporary passwords, unlocks and deactivates; every step audited."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from wuye.accounts import services
from wuye.audit.models import AuditEvent
from wuye.core.errors import PermissionDenied
from wuye.registry.models import StaffProfile
from wuye.testing import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Hua-yuan-2027x"


@pytest.fixture
def boss(make_staff, estate):
    user = make_staff("supervisor", estates=[estate])
    user.last_name = "王主管"
    user.save()
    return user


def _temporary_password(response) -> str:
    return re.search(r'id="temporary-password"[^>]*>([^<]+)<', response.content.decode())[1]


def test_a_supervisor_adds_a_cashier_who_must_choose_a_password_at_the_first_login(
    client, boss, estate
):
    # when the supervisor adds a cashier for the estate
    client.force_login(boss)
    response = client.post(
        reverse("staff:new"),
        {
            "full_name": "李娜",
            "username": "13800001111",
            "phone": "138 0000 1111",
            "roles": ["cashier"],
            "estates": [estate.pk],
        },
    )
    # then the temporary password is shown once, on this page, never cached
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    temporary = _temporary_password(response)
    cashier = User.objects.get(username="13800001111")
    assert cashier.last_name == "李娜" and list(cashier.groups.values_list("name", flat=True)) == [
        "cashier"
    ]
    profile = StaffProfile.objects.get(user=cashier)
    assert profile.phone == "13800001111" and list(profile.estates.all()) == [estate]
    event = AuditEvent.objects.get(action="create", subject_type="auth.user")
    assert event.subject_repr == "李娜" and event.after["roles"] == ["cashier"]
    assert temporary not in str(event.after)
    # and the staff list names her, with her role in Chinese
    page = client.get(reverse("staff:list")).content.decode()
    assert "李娜" in page and "收费员" in page
    # when she logs in with it, every page first asks for her own password
    client.logout()
    login = client.post(reverse("login"), {"username": "13800001111", "password": temporary})
    assert login.status_code == 302
    response = client.get(reverse("payments:window"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("password_change")
    )
    # the temporary password cannot be kept
    same = client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": temporary, "new_password2": temporary},
    )
    assert same.status_code == 200 and "different from the current one" in same.content.decode()
    client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert client.get(reverse("payments:window")).status_code == 200
    profile.refresh_from_db()
    assert not profile.must_change_password


def test_a_supervisor_gives_only_their_own_estates_and_not_the_auditors_role(
    client, boss, estate, other_estate
):
    client.force_login(boss)
    form = client.get(reverse("staff:new")).content.decode()
    assert estate.name in form and other_estate.name not in form
    assert 'value="auditor"' not in form and 'value="finance"' in form
    response = client.post(
        reverse("staff:new"),
        {
            "full_name": "赵六",
            "username": "zhao6",
            "roles": ["cashier"],
            "estates": [other_estate.pk],
        },
    )
    assert response.status_code == 200 and not User.objects.filter(username="zhao6").exists()
    # the service refuses the same, whatever the page offers
    with pytest.raises(PermissionDenied):
        services.staff_create(
            actor=boss,
            full_name="赵六",
            username="zhao6",
            roles=["cashier"],
            estates=[other_estate],
        )
    with pytest.raises(PermissionDenied):
        services.staff_create(
            actor=boss, full_name="赵六", username="zhao6", roles=["auditor"], estates=[estate]
        )


def test_staff_of_another_estate_are_not_there_for_the_supervisor(
    client, boss, make_staff, other_estate
):
    elsewhere = make_staff("cashier", estates=[other_estate])
    client.force_login(boss)
    assert elsewhere.username not in client.get(reverse("staff:list")).content.decode()
    for url in (
        reverse("staff:edit", args=[elsewhere.pk]),
        reverse("staff:password", args=[elsewhere.pk]),
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(reverse("staff:action", args=[elsewhere.pk, "deactivate"])).status_code == 404
    )
    elsewhere.refresh_from_db()
    assert elsewhere.is_active


def test_staff_working_for_an_estate_beyond_the_supervisors_are_read_only(
    client, boss, make_staff, estate, other_estate
):
    both = make_staff("collector", estates=[estate, other_estate])
    auditor = make_staff("auditor")
    client.force_login(boss)
    assert client.get(reverse("staff:edit", args=[both.pk])).status_code == 302
    client.post(reverse("staff:action", args=[both.pk, "deactivate"]))
    both.refresh_from_db()
    assert both.is_active
    with pytest.raises(PermissionDenied):
        services.staff_password_reset(actor=boss, user=auditor)
    with pytest.raises(PermissionDenied):
        services.staff_deactivate(actor=boss, user=boss)


def test_a_cashier_cannot_open_staff_administration(client, make_staff, estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    assert client.get(reverse("staff:list")).status_code == 403
    assert client.get(reverse("staff:new")).status_code == 403


def test_the_supervisor_changes_roles_and_estates_and_the_audit_says_what_changed(
    client, boss, make_staff, estate
):
    clerk = make_staff("customer_service", estates=[estate])
    client.force_login(boss)
    response = client.post(
        reverse("staff:edit", args=[clerk.pk]),
        {
            "full_name": "陈静",
            "phone": "",
            "roles": ["customer_service", "collector"],
            "estates": [estate.pk],
        },
    )
    assert response.status_code == 302
    assert set(clerk.groups.values_list("name", flat=True)) == {"customer_service", "collector"}
    event = AuditEvent.objects.filter(subject_type="auth.user", action="update").last()
    assert event.before["roles"] == ["customer_service"]
    assert event.after["roles"] == ["collector", "customer_service"]


def test_a_locked_login_is_unlocked_by_the_supervisor(client, boss, make_staff, estate):
    cashier = make_staff("cashier", estates=[estate])
    for _ in range(5):
        client.post(reverse("login"), {"username": cashier.username, "password": "wrong-pass-1"})
    locked = client.post(
        reverse("login"), {"username": cashier.username, "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 429
    assert "Ask your supervisor to unlock it" in locked.content.decode()
    # the supervisor sees the lock and lifts it
    client.force_login(boss)
    assert "Locked" in client.get(reverse("staff:list")).content.decode()
    client.post(reverse("staff:action", args=[cashier.pk, "unlock"]))
    assert AuditEvent.objects.filter(summary__startswith="login unlocked").exists()
    client.logout()
    response = client.post(
        reverse("login"), {"username": cashier.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302


def test_a_temporary_password_replaces_a_forgotten_one(client, boss, make_staff, estate):
    cashier = make_staff("cashier", estates=[estate])
    client.force_login(boss)
    response = client.post(reverse("staff:password", args=[cashier.pk]), {"password": ""})
    temporary = _temporary_password(response)
    cashier.refresh_from_db()
    assert cashier.check_password(temporary) and not cashier.check_password(DEMO_PASSWORD)
    assert StaffProfile.objects.get(user=cashier).must_change_password
    assert AuditEvent.objects.filter(summary="temporary password given").count() == 1
    # a typed one must pass the password rules
    weak = client.post(reverse("staff:password", args=[cashier.pk]), {"password": "123"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()


def test_a_leaver_is_deactivated_and_can_no_longer_use_the_site_or_the_api(
    client, boss, make_staff, estate
):
    cashier = make_staff("cashier", estates=[estate])
    token = Token.objects.create(user=cashier)
    other = client.__class__()
    other.force_login(cashier)
    client.force_login(boss)
    client.post(reverse("staff:action", args=[cashier.pk, "deactivate"]))
    cashier.refresh_from_db()
    assert not cashier.is_active
    assert other.get(reverse("payments:window")).status_code == 302  # back to the login
    api = client.__class__()
    assert api.get("/api/v1/estates/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401
    event = AuditEvent.objects.get(summary="staff deactivated")
    assert event.before == {"active": True} and event.after == {"active": False}


def test_the_audit_log_names_staff_not_their_logins(client, boss, make_staff, estate):
    cashier = make_staff("cashier", estates=[estate], username="cashier-login-7")
    services.staff_update(
        actor=boss, user=cashier, full_name="孙丽", roles=["cashier"], estates=[estate]
    )
    auditor = make_staff("auditor")
    client.force_login(auditor)
    page = client.get(reverse("audit:list")).content.decode()
    assert "王主管" in page and "孙丽" in page
    assert "cashier-login-7" not in page
    assert "孙丽" in client.get(reverse("audit:list"), {"actor": "王主管"}).content.decode()
