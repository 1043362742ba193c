"""Exporting the registry: the same columns the importer reads, audited, permission-checked."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from wuye.audit.models import AuditEvent
from wuye.core.errors import PermissionDenied
from wuye.registry.exports import export_write
from wuye.registry.imports import import_apply
from wuye.registry.models import Building, Estate, Party, Unit, UnitParty

UNIT_FIELDS = (
    "number",
    "building__code",
    "entrance",
    "floor",
    "gross_area",
    "unit_type",
    "handover_date",
    "fee_start_date",
    "occupancy",
)


@pytest.fixture
def registry(owner, unit):
    """Estate HY: building 1 (1栋) with 1-1-301 owned by 张伟, plus a shop, a parking space
    and a second building."""
    estate = unit.estate
    tower = Building.objects.create(estate=estate, code="2", name="2号楼", floors=32)
    Unit.objects.create(
        estate=estate,
        building=unit.building,
        number="1-1-101",
        entrance="1",
        floor=1,
        gross_area=Decimal("120.35"),
        unit_type="commercial",
        occupancy="renovating",
        handover_date=date(2025, 6, 3),
    )
    Unit.objects.create(
        estate=estate,
        building=tower,
        number="2-P-017",
        floor=-1,
        gross_area=Decimal("12.00"),
        unit_type="parking",
        occupancy="vacant",
    )
    return estate


def _export(estate, kind, fmt, actor=None) -> bytes:
    out = io.BytesIO()
    export_write(actor=actor, estate=estate, kind=kind, fmt=fmt, file=out)
    return out.getvalue()


def _units(estate):
    return list(Unit.objects.filter(estate=estate).order_by("number").values_list(*UNIT_FIELDS))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_back_into_a_new_estate_unchanged(registry, fmt):
    # given: the estate's buildings, units and owners exported
    files = {kind: _export(registry, kind, fmt) for kind in ("buildings", "units", "owners")}
    new = Estate.objects.create(code="HY2", name="华苑二期")
    # when: imported into a new estate
    for kind in ("buildings", "units", "owners"):
        report = import_apply(
            actor=None,
            estate=new,
            kind=kind,
            file=io.BytesIO(files[kind]),
            filename=f"{kind}.{fmt}",
        )
        assert report.ok
    # then: the same buildings, units and ownerships
    assert _units(new) == _units(registry)
    assert list(new.buildings.values_list("code", "name", "floors")) == list(
        registry.buildings.values_list("code", "name", "floors")
    )
    rel = UnitParty.objects.get(estate=new)
    assert (rel.unit.number, rel.party.name, rel.start_date, rel.is_payer) == (
        "1-1-301",
        "张伟",
        date(2025, 6, 1),
        True,
    )
    assert rel.party.mobile == "13812345678" and rel.party.id_number == "44030119800101123X"


@pytest.mark.django_db
def test_an_export_is_audited(registry, make_staff):
    finance = make_staff("finance", estates=[registry])
    data = _export(registry, "units", "xlsx", actor=finance)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("楼栋", "单元", "房号") and len(rows) == 4
    event = AuditEvent.objects.get(action="export")
    assert event.actor == finance and event.estate_id == registry.pk
    assert event.after == {"kind": "units", "format": "xlsx", "rows": 3, "personal_data": True}


@pytest.mark.django_db
def test_export_needs_the_permission_and_the_estate(registry, make_staff, other_estate):
    clerk = make_staff("customer_service", estates=[registry])  # imports, may not export
    stranger = make_staff("finance", estates=[other_estate])
    for actor in (clerk, stranger):
        with pytest.raises(PermissionDenied):
            _export(registry, "owners", "csv", actor=actor)
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.django_db
def test_the_export_download(client, make_staff, registry, other_estate):
    finance = make_staff("finance", estates=[registry])
    client.force_login(finance)
    url = reverse("registry:export", args=["owners"])
    response = client.get(url, {"estate": registry.pk, "format": "csv"})
    assert response.status_code == 200
    assert 'filename="HY-owners-' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("1-1-301,张伟,13812345678")
    assert AuditEvent.objects.filter(action="export", actor=finance).count() == 1
    # another estate is not there; a role without the permission is refused
    assert client.get(url, {"estate": other_estate.pk}).status_code == 404
    client.force_login(make_staff("customer_service", estates=[registry]))
    assert client.get(url, {"estate": registry.pk}).status_code == 403


@pytest.mark.django_db
def test_the_export_command_writes_the_file(registry, tmp_path):
    path = tmp_path / "units.csv"
    call_command("export", "units", "--estate", "HY", "-o", str(path))
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == "楼栋,单元,房号,楼层,建筑面积,类型,交付日期,起缴日期,状态"
    assert "1,1,1-1-101,1,120.35,商铺,2025-06-03,,装修" in lines
    assert AuditEvent.objects.get(action="export").source == "cli"


@pytest.mark.django_db
def test_phones_are_masked_for_a_role_without_personal_data(registry, make_staff):
    from django.contrib.auth.models import Permission

    finance = make_staff("finance", estates=[registry])
    finance.groups.first().permissions.remove(Permission.objects.get(codename="view_pii"))
    finance = type(finance).objects.get(pk=finance.pk)
    text = _export(registry, "owners", "csv", actor=finance).decode("utf-8-sig")
    assert "138****5678" in text and "13812345678" not in text
    assert Party.objects.get(name="张伟").mobile == "13812345678"
