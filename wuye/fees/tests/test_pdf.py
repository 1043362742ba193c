"""The shared PDF helpers (wuye.core.pdf): embedded CJK font, a clear error without it."""

import subprocess

import pytest

from wuye.core import pdf


def test_a_pdf_embeds_the_chinese_font_and_reads_back():
    # given a page with Chinese text and a table
    st = pdf.styles()
    data = pdf.build(
        [
            pdf.text("收费公示 <测试> & 校验", st["title"]),
            pdf.table([["项目", "金额"], ["物业费", "1,234.50"]]),
        ],
        title="测试",
        footer=lambda page: f"第 {page} 页",
    )
    # then the font is embedded (a subset) and the text extracts as written
    assert b"/FontFile2" in data
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert (
        "收费公示 <测试> & 校验" in text and "物业费" in text and "第1页" in text.replace(" ", "")
    )


def test_a_missing_font_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(pdf, "FONT_NAME", "WQY-missing-test")
    monkeypatch.setattr(pdf, "FONT_PATH", "/nonexistent/wqy-zenhei.ttc")
    with pytest.raises(pdf.FontMissing, match="apt-get install fonts-wqy-zenhei"):
        pdf.styles()
