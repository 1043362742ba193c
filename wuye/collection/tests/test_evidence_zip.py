"""The evidence ZIP: the index PDF first, every part in it with its SHA-256, gaps named."""

import hashlib
import io
import json
import zipfile
from datetime import date, datetime

import pytest
from django.core.files.base import ContentFile

from wuye.collection import evidence
from wuye.collection.limitation_selectors import party_clocks
from wuye.registry.models import ServiceContract

from .books import charge
from .test_demand_pdf import pdf_text

TODAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_zip_holds_every_part_and_its_index_lists_them(tmp_path):
    parts = [
        evidence.Part("物业服务合同", "服务关系", "合同.pdf", b"%PDF contract"),
        evidence.Part("对账单", "欠费往来", "对账单.pdf", b"%PDF statement"),
    ]
    missing = [evidence.Missing("收费公示", "公示文件未存档")]
    data = evidence.evidence_zip(
        title="证据材料 张伟",
        facts=[("案件", "L-1"), ("业主", "张伟")],
        parts=parts,
        missing=missing,
        made_at=datetime(2026, 12, 7, 10, 0),
    )
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert names == [evidence.INDEX_NAME, "01-合同.pdf", "02-对账单.pdf", "manifest.json"]
    assert zf.read("02-对账单.pdf") == b"%PDF statement"
    manifest = json.loads(zf.read("manifest.json"))
    assert [p["sha256"] for p in manifest["parts"]] == [
        hashlib.sha256(b"%PDF contract").hexdigest(),
        hashlib.sha256(b"%PDF statement").hexdigest(),
    ]
    index = pdf_text(zf.read(evidence.INDEX_NAME), tmp_path)
    for part in parts:
        assert part.section in index and part.sha256[:20] in index
    assert "01-合同.pdf" in index and "缺少的材料" in index and "公示文件未存档" in index


def test_the_books_parts_contract_standards_charges_and_statement(estate, unit, owner, tmp_path):
    # given a scanned contract, and two periods owed
    contract = ServiceContract.objects.get(estate=estate)
    contract.document.save("hy.pdf", ContentFile(b"%PDF scanned contract"))
    jan = charge(unit, owner, "2023-01", "250.00")
    charge(unit, owner, "2024-01", "250.00")
    # when the parts are gathered
    parts, missing = evidence.contract_parts(estate, on=TODAY)
    assert parts[0].data == b"%PDF scanned contract" and not missing
    std_parts, std_missing = evidence.fee_standard_parts(
        estate, fee_item_ids=[jan.fee_item_id], periods=["2023-01"]
    )
    # no standard was ever published for the test item: the gap is named
    assert std_parts == [] and std_missing[0].section == "收费标准及公示"
    from wuye.billing.models import Charge

    charges = list(Charge.objects.filter(party=owner).select_related("unit", "fee_item"))
    book = evidence.charges_parts(
        owner, charges, clocks=party_clocks(owner, today=TODAY), today=TODAY
    )
    listing = pdf_text(book[0].data, tmp_path)
    # then the barred period is listed and marked, not dropped
    assert "2023-01" in listing and "已过时效" in listing and "2024-01" in listing
    assert book[1].section == "对账单" and book[1].data.startswith(b"%PDF")


def test_a_contract_without_its_scan_is_named_as_missing(estate):
    parts, missing = evidence.contract_parts(estate, on=TODAY)
    assert parts == [] and "HY-2026-01" in missing[0].reason
