"""The formal demand (催缴通知书) PDF: company, estate, owner, unit, arrears by period and fee
item, the late fee only where the contract has a clause, the final deadline and the legal
consequences in plain words; a batch prints as one PDF."""

import shutil
import subprocess
from datetime import date

import pytest

from wuye.collection.demands import demand_content, demand_pdf
from wuye.registry.models import Party, ServiceContract, UnitParty

from .books import charge, fee_item

TODAY = date(2026, 12, 7)
DEADLINE = date(2026, 12, 22)


def pdf_pages(data: bytes, tmp_path) -> list[str]:
    """The text of each page, whitespace removed (in CJK text it is layout only)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "demand.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True)
    return ["".join(page.split()) for page in out.stdout.split("\f") if page.strip()]


def pdf_text(data: bytes, tmp_path) -> str:
    return "".join(pdf_pages(data, tmp_path))


@pytest.fixture
def arrears(estate, unit, owner):
    """Two periods of property fee and one of parking owed, with a late fee on September."""
    parking = fee_item(estate, "PARKING", "停车费")
    sep = charge(unit, owner, "2026-09", "250.60")
    charge(unit, owner, "2026-10", "250.60")
    charge(unit, owner, "2026-10", "300.00", item=parking)
    charge(unit, owner, "2026-09", "12.50", kind="late_fee", source=sep)
    return owner


def test_the_demand_says_who_what_how_much_by_when_and_what_follows(arrears, estate, tmp_path):
    # given the estate's contract has a late-fee clause (万分之三 a day, after 15 days)
    estate.company_name = "深圳华苑物业服务有限公司"
    estate.save()
    content = demand_content(party=arrears, today=TODAY, deadline=DEADLINE, number="CJ-HY-0001")
    text = pdf_text(demand_pdf([content]), tmp_path)
    # then it names the company, estate, owner, unit and number
    for expected in ["深圳华苑物业服务有限公司", "华苑小区", "张伟", "1-1-301", "CJ-HY-0001"]:
        assert expected in text
    assert "催缴通知书" in text
    # the arrears by period and fee item
    assert "2026-09物业服务费" in text and "2026-10停车费" in text
    assert "250.60" in text and "300.00" in text
    # the late fee with the clause it rests on
    assert "物业服务费滞纳金" in text and "12.50" in text
    assert "HY-2026-01" in text and "万分之3" in text
    assert content.principal_total == content.total - content.late_fee_total
    assert str(content.total) == "813.70"
    assert "813.70" in text and "捌佰壹拾叁元柒角整" in text
    # the final deadline and the consequences in plain words
    assert "2026年12月22日前缴清" in text
    assert "法律途径" in text and "强制执行" in text
    # and never a threat the law forbids
    assert "不会因欠费停止供水、供电" in text


def test_without_a_late_fee_clause_no_late_fee_is_listed_or_mentioned(arrears, estate, tmp_path):
    # given the contract in force has no late-fee clause
    ServiceContract.objects.filter(estate=estate).update(
        has_late_fee_clause=False, late_fee_daily_rate=None
    )
    content = demand_content(party=arrears, today=TODAY, deadline=DEADLINE)
    text = pdf_text(demand_pdf([content]), tmp_path)
    # then the late fee is neither in the table nor in the text, nor in the total
    assert "滞纳金" not in text and "12.50" not in text
    assert str(content.total) == "801.20" and "801.20" in text
    assert content.late_fee_rows == []
    # and the charges the demand covers leave the late fee out
    assert len(content.charge_ids) == 3


def test_charges_not_yet_due_are_not_demanded(estate, unit, owner):
    charge(unit, owner, "2026-12", "250.60", due=date(2026, 12, 28))
    content = demand_content(party=owner, today=TODAY, deadline=DEADLINE)
    assert content.rows == [] and content.total == 0


def test_a_batch_prints_every_demand_in_one_pdf(arrears, estate, unit, tmp_path):
    # given a second owner with arrears
    other = Party.objects.create(estate=estate, name="李娜", mobile="13900001111")
    UnitParty.objects.create(
        estate=estate, unit=unit, party=other, start_date=date(2025, 6, 1), is_payer=False
    )
    charge(unit, other, "2026-08", "99.00")
    contents = [demand_content(party=p, today=TODAY, deadline=DEADLINE) for p in (arrears, other)]
    pages = pdf_pages(demand_pdf(contents), tmp_path)
    # then both are in the one file, each starting on its own page
    starts = [page for page in pages if "催缴通知书" in page]
    assert len(starts) == 2
    assert "张伟" in starts[0] and "李娜" not in starts[0] and "李娜" in starts[1]
