"""The public notice of fee standards (收费公示), posted at the estate when a standard is
published: who manages the estate, what service is given, and each fee item with its basis,
rate and unit, the pricing mode, the filing reference, the effective date and where to
complain (the price-posting rules of the NDRC's 物业服务收费明码标价规定)."""

from datetime import date

from django.conf import settings

from wuye.core import pdf

from .models import FeeItem, FeeStandard

_BASIS_ZH = {
    FeeItem.Basis.PER_AREA_MONTH: "按建筑面积/月",
    FeeItem.Basis.PER_UNIT_MONTH: "按户/月",
    FeeItem.Basis.METERED: "按表计量",
    FeeItem.Basis.ONE_OFF: "一次性",
}
_PRICING_ZH = {"lump_sum": "包干制", "commission": "酬金制"}
_UNIT_TYPE_ZH = {
    "": "全部",
    "residential": "住宅",
    "commercial": "商业",
    "parking": "车位",
    "storage": "储藏室",
}


def notice_rows(standards: list[FeeStandard]) -> list[list[str]]:
    rows = [["收费项目", "适用类型", "计费方式", "收费标准", "空置收取比例", "执行日期"]]
    for std in standards:
        item = std.fee_item
        vacancy = f"{(std.vacancy_rate * 100).normalize():f}%" if std.vacancy_rate else "—"
        rows.append(
            [
                item.name,
                _UNIT_TYPE_ZH.get(std.unit_type, std.unit_type),
                _BASIS_ZH.get(item.basis, item.basis),
                f"{std.rate.normalize():f} {item.unit_label()}",
                vacancy,
                f"{std.effective_from:%Y-%m-%d}",
            ]
        )
    return rows


def notice_pdf(*, standard: FeeStandard, in_force: list[FeeStandard], published_on: date) -> bytes:
    """The notice for publishing `standard`, listing it and the estate's other standards in
    force on its effective date (`in_force`, which includes `standard`)."""
    estate = standard.estate
    company = estate.company_name or settings.WUYE["COMPANY_NAME"]
    st = pdf.styles()
    item = standard.fee_item
    flow = [
        pdf.text(f"{estate.name}物业服务收费公示", st["title"]),
        pdf.text(f"物业服务企业：{company}", st["body"]),
        pdf.text(f"项目：{estate.name}（{estate.address or estate.code}）", st["body"]),
        pdf.text(
            f"计费方式（定价形式）：{_PRICING_ZH.get(standard.pricing_mode, '—')}", st["body"]
        ),
        pdf.text(f"备案号：{standard.filing_ref or '—'}", st["body"]),
        pdf.Spacer(1, 3 * pdf.mm),
        pdf.text(
            f"本次公示：{item.name}（{_UNIT_TYPE_ZH.get(standard.unit_type, '')}）"
            f"收费标准 {standard.rate.normalize():f} {item.unit_label()}，"
            f"自 {standard.effective_from:%Y年%m月%d日} 起执行。",
            st["heading"],
        ),
        pdf.Spacer(1, 2 * pdf.mm),
        pdf.table(
            notice_rows(in_force),
            col_widths=[
                34 * pdf.mm,
                18 * pdf.mm,
                28 * pdf.mm,
                36 * pdf.mm,
                24 * pdf.mm,
                26 * pdf.mm,
            ],
        ),
        pdf.Spacer(1, 3 * pdf.mm),
        pdf.text("服务内容", st["heading"]),
        pdf.text(standard.service_content or "详见物业服务合同。", st["body"]),
        pdf.Spacer(1, 3 * pdf.mm),
        pdf.text(
            f"价格举报/投诉电话：{standard.complaint_phone or '12345'}　"
            f"服务热线：{estate.hotline or '—'}",
            st["body"],
        ),
        pdf.Spacer(1, 6 * pdf.mm),
        pdf.text(company, st["right"]),
        pdf.text(f"公示日期：{published_on:%Y年%m月%d日}", st["right"]),
    ]
    return pdf.build(
        flow,
        title=f"{estate.name} 收费公示 {item.code} v{standard.version}",
        author=company,
        footer=lambda page: f"{estate.name} · 收费公示 · 第 {page} 页",
    )
