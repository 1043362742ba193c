"""The case list and the case page, as a collector, a supervisor and an auditor use them:
filters, search, sort, everything on one screen, holds, reassignment, masking, estate scope."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wuye.collection.models import ArrearsCase, CaseCharge, Escalation, Hold, PromiseToPay, Task
from wuye.collection.services.cases import hold_place
from wuye.collection.services.contacts import contact_record
from wuye.registry.models import Building, OwnerNote, Party, Unit, UnitParty

from .books import charge

pytestmark = pytest.mark.django_db


def _second_owner(estate, *, name="李娜", number="2-1-101", mobile="13900001111"):
    building = Building.objects.create(estate=estate, code="2", name="2栋")
    unit = Unit.objects.create(
        estate=estate, building=building, number=number, floor=1, gross_area="100.00"
    )
    party = Party.objects.create(estate=estate, name=name, mobile=mobile)
    UnitParty.objects.create(
        estate=estate, unit=unit, party=party, start_date=date(2025, 1, 1), is_payer=True
    )
    return unit, party


def _case(party, **fields):
    fields.setdefault("opened_on", timezone.localdate())
    return ArrearsCase.objects.create(estate=party.estate, party=party, **fields)


def _rows(html: str) -> str:
    return html.split('data-test="case-list"')[1].split("</table>")[0]


def test_the_list_filters_searches_and_sorts(client, collector, supervisor, estate, owner):
    unit2, li = _second_owner(estate)
    zhang = _case(owner, amount=500, stage_number=2, reason="forgot", assignee=collector)
    li_case = _case(li, amount=1200, stage_number=3, reason="dispute", status="disputed")
    client.force_login(collector)
    page = client.get("/collection/cases/").content.decode()
    rows = _rows(page)
    # biggest first by default, with the units of each owner
    assert rows.index("李娜") < rows.index("张伟")
    assert "2-1-101" in rows and "1-1-301" in rows
    # sort by amount ascending puts 张伟 first
    rows = _rows(client.get("/collection/cases/?sort=amount").content.decode())
    assert rows.index("张伟") < rows.index("李娜")
    for query, shown, hidden in [
        ("status=disputed", li_case, zhang),
        ("stage=2", zhang, li_case),
        ("reason=dispute", li_case, zhang),
        (f"assignee={collector.pk}", zhang, li_case),
        (f"building={unit2.building_id}", li_case, zhang),
        ("q=2-1-10", li_case, zhang),
        ("q=张", zhang, li_case),
    ]:
        rows = _rows(client.get(f"/collection/cases/?{query}").content.decode())
        assert f"/collection/cases/{shown.pk}/" in rows, query
        assert f"/collection/cases/{hidden.pk}/" not in rows, query
    # closed cases only when asked
    li_case.status = "closed"
    li_case.save()
    assert (
        f"/collection/cases/{li_case.pk}/" not in client.get("/collection/cases/").content.decode()
    )
    assert (
        f"/collection/cases/{li_case.pk}/"
        in client.get("/collection/cases/?status=any").content.decode()
    )


def test_the_list_shows_only_the_users_estates(client, make_staff, estate, other_estate, owner):
    _case(owner, amount=500)
    stranger_party = Party.objects.create(estate=other_estate, name="王芳")
    other = _case(stranger_party, amount=900)
    collector = make_staff("collector", estates=[estate])
    client.force_login(collector)
    page = client.get(f"/collection/cases/?estate={other_estate.pk}").content.decode()
    assert "张伟" in page and "王芳" not in page  # the switcher never reaches it
    assert client.get(f"/collection/cases/{other.pk}/").status_code == 404


def test_the_case_page_has_everything_on_one_screen(
    client, collector, open_policy, case, unit, owner, make_staff
):
    today = timezone.localdate()
    late = charge(unit, owner, "2026-01", "250.00", due=date(2026, 1, 28))
    later = charge(unit, owner, "2026-02", "250.00", due=date(2026, 2, 28))
    for c in (late, later):
        CaseCharge.objects.create(case=case, charge=c, added_on=today)
    Task.objects.create(
        estate=owner.estate, case=case, kind="call", due_on=today, note="回访张先生"
    )
    PromiseToPay.objects.create(
        estate=owner.estate, case=case, amount="200.00", due_on=today + timedelta(days=5)
    )
    Escalation.objects.create(
        estate=owner.estate, case=case, kind="manual", note="业主情绪激动", raised_at=timezone.now()
    )
    service = make_staff("customer_service", estates=[owner.estate])
    OwnerNote.objects.create(
        estate=owner.estate, party=owner, category="hardship", text="业主近期失业", author=service
    )
    first = contact_record(
        actor=collector, party=owner, case=case, channel="call", outcome="no_answer", said="第一次"
    )
    second = contact_record(
        actor=collector, party=owner, case=case, channel="call", outcome="reached", said="第二次"
    )
    assert second.at >= first.at
    client.force_login(collector)
    page = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert "张伟" in page and "13812345678" in page  # a collector sees the owner in full
    assert "1-1-301" in page and "1栋" in page
    charges = page.split('data-test="charges"')[1].split("</table>")[0]
    assert "2026-01" in charges and "2026-02" in charges and "500.00" in charges
    assert "回访张先生" in page and "200.00" in page and "业主情绪激动" in page
    assert "业主近期失业" in page
    log = page.split('data-test="contacts"')[1]
    assert log.index("第二次") < log.index("第一次")  # newest first
    assert f'href="/collection/cases/{case.pk}/resolution/"' in page
    assert 'data-test="case-actions"' in page  # the workbench's slot


def test_the_auditor_sees_the_owner_masked(client, make_staff, estate, case, owner):
    auditor = make_staff("auditor", estates=[estate])
    client.force_login(auditor)
    page = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert "张伟" not in page and "13812345678" not in page
    assert "张*" in page and "138****5678" in page
    assert "张伟" not in _rows(client.get("/collection/cases/").content.decode())
    # and reads only: no hold, no release, no reassign
    assert 'data-test="add-hold"' not in page and 'data-test="reassign"' not in page
    client.post(
        f"/collection/cases/{case.pk}/",
        {"action": "hold", "reason": "x", "expires_on": timezone.localdate().isoformat()},
    )
    assert not Hold.objects.exists()


def test_a_manual_hold_is_placed_with_reason_and_expiry_and_released_by_a_supervisor(
    client, collector, supervisor, case
):
    client.force_login(collector)
    url = f"/collection/cases/{case.pk}/"
    until = (timezone.localdate() + timedelta(days=10)).isoformat()
    refused = client.post(url, {"action": "hold", "reason": " ", "expires_on": until}, follow=True)
    assert "a manual hold needs a reason" in refused.content.decode()
    assert not Hold.objects.exists()
    client.post(url, {"action": "hold", "reason": "业主住院", "expires_on": until})
    hold = Hold.objects.get()
    assert (hold.kind, hold.reason, hold.expires_on.isoformat()) == ("manual", "业主住院", until)
    page = client.get(url).content.decode()
    assert "业主住院" in page and 'data-test="release-hold"' not in page
    client.post(url, {"action": "release", "hold": hold.pk})
    hold.refresh_from_db()
    assert hold.released_at is None  # a collector may not release
    assert 'data-test="held"' in _rows(client.get("/collection/cases/").content.decode())
    client.force_login(supervisor)
    client.post(url, {"action": "release", "hold": hold.pk})
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert 'data-test="held"' not in _rows(client.get("/collection/cases/").content.decode())


def test_another_estates_hold_cannot_be_released_through_this_case(
    client, supervisor, case, other_estate, make_staff
):
    party = Party.objects.create(estate=other_estate, name="王芳")
    other_case = _case(party)
    boss = make_staff("supervisor", estates=[other_estate])
    hold = hold_place(
        actor=boss,
        case=other_case,
        kind="manual",
        reason="x",
        expires_on=timezone.localdate() + timedelta(days=3),
    )
    client.force_login(supervisor)
    client.post(f"/collection/cases/{case.pk}/", {"action": "release", "hold": hold.pk})
    hold.refresh_from_db()
    assert hold.released_at is None


def test_reassigning_is_a_supervisors(client, collector, supervisor, case, make_staff, estate):
    colleague = make_staff("collector", estates=[estate], username="collector-2")
    client.force_login(collector)
    url = f"/collection/cases/{case.pk}/"
    assert 'data-test="reassign"' not in client.get(url).content.decode()
    client.post(url, {"action": "reassign", "assignee": colleague.pk})
    case.refresh_from_db()
    assert case.assignee_id is None
    client.force_login(supervisor)
    assert 'data-test="reassign"' in client.get(url).content.decode()
    client.post(url, {"action": "reassign", "assignee": colleague.pk})
    case.refresh_from_db()
    assert case.assignee_id == colleague.pk
    # someone outside the estate cannot be given the case
    outsider = make_staff("collector", estates=[])
    page = client.post(url, {"action": "reassign", "assignee": outsider.pk}, follow=True)
    assert "choose a collector or supervisor of this estate" in page.content.decode()
    case.refresh_from_db()
    assert case.assignee_id == colleague.pk


def test_the_collection_menu_holds_the_case_list_and_the_resolution_pages(
    client, collector, make_staff, estate
):
    client.force_login(collector)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    menu = home.split(">催收<")[1].split("</ul>")[0]
    assert "/collection/cases/" in menu and "/collection/plans/" in menu
    client.force_login(make_staff("cashier", estates=[estate]))
    assert "/collection/cases/" not in client.get("/").content.decode()


def test_a_supervisor_approves_the_legal_stage_with_a_reason(
    client, collector, supervisor, case, estate
):
    from wuye.audit.models import AuditEvent
    from wuye.collection.services.policies import policy_default

    policy_default(estate=estate)  # stage 4 (legal) needs approval
    url = f"/collection/cases/{case.pk}/"
    client.force_login(collector)
    assert 'data-test="approve-stage"' not in client.get(url).content.decode()
    client.post(url, {"action": "approve", "stage": "4", "note": "恶意拖欠两年"})
    case.refresh_from_db()
    assert case.approved_stage == 0
    client.force_login(supervisor)
    assert 'data-test="approve-stage"' in client.get(url).content.decode()
    page = client.post(url, {"action": "approve", "stage": "4", "note": " "}, follow=True)
    assert "say why" in page.content.decode()
    client.post(url, {"action": "approve", "stage": "2", "note": "x"})  # needs no approval
    case.refresh_from_db()
    assert case.approved_stage == 0
    client.post(url, {"action": "approve", "stage": "4", "note": "恶意拖欠两年"})
    case.refresh_from_db()
    assert case.approved_stage == 4
    assert AuditEvent.objects.get(action="collection.stage_approve").summary == "恶意拖欠两年"
    assert 'data-test="approve-stage"' not in client.get(url).content.decode()


def test_garbage_in_a_form_is_a_message_or_a_404_never_a_500(client, supervisor, case):
    client.force_login(supervisor)
    url = f"/collection/cases/{case.pk}/"
    assert client.post(url, {"action": "release", "hold": "x²"}).status_code == 404
    assert (
        client.post(url, {"action": "hold", "reason": "x", "expires_on": "明天"}).status_code == 302
    )
    assert client.get("/collection/cases/?stage=²&assignee=x&building=%00").status_code in (
        200,
        400,
    )
    assert client.post("/collection/policies/", {"estate": "²"}).status_code == 404
