"""The printed documents of the window: receipts (A5, A4, 80 mm thermal) and the fees-settled
certificate (物業費結清證明). Layout only: the data comes from the models and selectors; every
PDF embeds the CJK font (`wuye.core.pdf`)."""

import io
from datetime import date
from decimal import Decimal

import qrcode
from django.conf import settings
from django.utils import translation
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Image, PageBreak, Spacer, Table, TableStyle

from wuye.core import pdf
from wuye.core.amount_words import amount_in_words
from wuye.core.money import format_yuan
from wuye.core.names import person_name

from .models import Receipt

PAPERS = ("a5", "a4", "thermal80")
THERMAL_WIDTH = 80 * pdf.mm


def company_name(estate) -> str:
    return estate.company_name or settings.WUYE["COMPANY_NAME"]


def mask_name(name: str) -> str:
    """张伟 -> 张*, 欧阳娜娜 -> 欧***: enough to recognise, not enough to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def qr_png(url: str) -> bytes:
    image = qrcode.make(url, box_size=6, border=1)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_fmt = format_yuan


LINES_PER_PAGE = 15  # an A5 receipt holds 15 lines; more go on continuation pages


def _receipt_rows(receipt: Receipt, *, thermal: bool) -> list[tuple[list[str], Decimal]]:
    """([收费项目, 期间, 金额], amount) per printed line of the receipt."""
    units = {line.get("unit") for line in receipt.lines if line["kind"] == "charge"}
    rows = []
    for line in receipt.lines:
        amount = Decimal(line.get("amount", "0") or "0")
        if line["kind"] == "charge":
            what = line["item"] + ("滞纳金" if line.get("late_fee") else "")
            if len(units) > 1:  # a payment over several units says which line is whose
                what = f"{line.get('unit', '')} {what}"
            when = f"{line['from']}至{line['to']}" if not thermal else line["period"]
            rows.append(([what, when, _fmt(amount)], amount))
        elif amount or line["kind"] == "offer":
            shown = _fmt(amount) if line["kind"] != "offer" else ""
            rows.append(([line["text"], "", shown], amount))
    return rows


def _pages(rows: list, per_page: int) -> list[list]:
    return [rows[i : i + per_page] for i in range(0, len(rows), per_page)] or [[]]


def receipt_pdf(
    receipt: Receipt, *, paper: str = "a5", copy: bool = False, verify_url: str
) -> bytes:
    """The receipt as a PDF on `paper` (a5, a4 or thermal80). `copy` marks a reprint; a void
    receipt says so in its title.

    A5 and A4 print at most LINES_PER_PAGE lines a page: a longer receipt continues on the next
    page, the running total carried as 转下页 at the foot and 承上页 at the head of the next,
    each page numbered 第 n 页 共 m 页; the grand total in figures and in capitals, the check
    code and the stamp box (盖章) close the last page. The thermal strip has no pages."""
    if paper not in PAPERS:
        paper = "a5"
    payment = receipt.payment
    estate = receipt.estate
    thermal = paper == "thermal80"
    title = "收款收据"
    if receipt.is_void:
        title += "（作废）"
    elif copy:
        title += "（副本）"
    unit = payment.unit.number if payment.unit_id else ""
    payer = payment.payer_name or payment.party.name
    day = f"{receipt.issued_at.astimezone().date():%Y-%m-%d}"
    with translation.override("zh-hans"):  # the receipt is printed in Chinese
        method = str(payment.get_channel_display())
    if payment.external_ref:
        method += f"（{payment.external_ref}）"
    cashier = person_name(payment.created_by)
    periods = sorted(line["period"] for line in receipt.lines if line["kind"] == "charge")
    span = ""
    if periods:
        span = periods[0] if periods[0] == periods[-1] else f"{periods[0]}至{periods[-1]}"
    total = payment.amount
    note = getattr(getattr(estate, "cashier_settings", None), "receipt_note", "")
    rows = _receipt_rows(receipt, thermal=thermal)
    if thermal:
        return _thermal_receipt(
            receipt,
            title=title,
            rows=rows,
            total=total,
            verify_url=verify_url,
            note=note,
            head=[("项目", estate.name), ("房号", unit or "—"), ("缴款人", payer), ("日期", day)],
            tail=[("所属期间", span)] * bool(span) + [("付款方式", method), ("收款人", cashier)],
        )
    base = 9
    st = pdf.styles(base)
    heading = ParagraphStyle("receipt-title", parent=st["title"], spaceAfter=0, leading=20)
    head = pdf.table(
        [
            ["项目", estate.name, "房号", unit or "—", "缴款人", payer],
            ["日期", day, "付款方式", method, "收款人", cashier],
        ],
        header=False,
        font_size=base,
        padding=1,
        col_widths=[14 * pdf.mm, None, 18 * pdf.mm, None, 16 * pdf.mm, None],
    )
    pages = _pages(rows, LINES_PER_PAGE)
    story: list = []
    carried = Decimal("0")
    for number, chunk in enumerate(pages, start=1):
        last = number == len(pages)
        if number > 1:
            story.append(PageBreak())
        numbered = f"No. {receipt.code}"
        if len(pages) > 1:
            numbered += f"\n第 {number} 页 共 {len(pages)} 页"
        top = Table(
            [
                [
                    pdf.text(company_name(estate), st["small"]),
                    pdf.text(title, heading),
                    pdf.text(numbered, st["right"]),
                ]
            ],
            colWidths=[60 * pdf.mm, None, 60 * pdf.mm],
        )
        top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [top, head, Spacer(1, 1.5 * pdf.mm)]
        table = [["收费项目", "期间", "金额（元）"]]
        if number > 1:
            table.append(["承上页", "", _fmt(carried)])
        for cells, amount in chunk:
            table.append(cells)
            carried += amount
        if not last:
            table.append(["转下页", "", _fmt(carried)])
        else:
            table.append([f"合计（大写）：人民币{amount_in_words(total)}", span, f"¥{_fmt(total)}"])
        widths = [None, 56 * pdf.mm, 30 * pdf.mm]
        story.append(pdf.table(table, col_widths=widths, font_size=8.5, padding=1))
        if last:
            if receipt.is_void:
                story.append(pdf.text(f"本收据已作废：{receipt.void_reason}", st["heading"]))
            story += [Spacer(1, 1 * pdf.mm), _check_and_stamp(verify_url, note, st)]
    pagesize = A4 if paper == "a4" else (A5[1], A5[0])  # A5 landscape
    return pdf.build(
        story,
        title=f"收据 {receipt.code}",
        author=company_name(estate),
        pagesize=pagesize,
        margin=7 * pdf.mm,
    )


def _check_and_stamp(verify_url: str, note: str, st) -> Table:
    """The QR check code and its words on the left, the stamp box (盖章) on the right."""
    qr = Image(io.BytesIO(qr_png(verify_url)), width=16 * pdf.mm, height=16 * pdf.mm)
    check = pdf.text(f"扫码验证收据真伪\n{verify_url}\n{note}".strip(), st["small"])
    stamp = pdf.text("收款单位（盖章）", st["small"])
    box = Table(
        [[qr, check, stamp]], colWidths=[19 * pdf.mm, None, 50 * pdf.mm], rowHeights=[19 * pdf.mm]
    )
    box.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (1, 0), "MIDDLE"),
                ("VALIGN", (2, 0), (2, 0), "TOP"),
                ("BOX", (2, 0), (2, 0), 0.5, colors.grey),
            ]
        )
    )
    return box


def _thermal_receipt(receipt, *, title, rows, total, verify_url, note, head, tail) -> bytes:
    """The 80 mm strip: one long page, as the printer cuts it."""
    st = pdf.styles(8)
    story = [
        pdf.text(company_name(receipt.estate), st["center"]),
        pdf.text(title, st["title"]),
        pdf.text(f"No. {receipt.code}", st["center"]),
    ]
    story += [pdf.text(f"{k}：{v}", st["body"]) for k, v in head]
    story.append(Spacer(1, 2 * pdf.mm))
    table = [["收费项目", "期间", "金额（元）"]] + [cells for cells, _ in rows]
    widths = [26 * pdf.mm, 24 * pdf.mm, 20 * pdf.mm]
    story += [pdf.table(table, col_widths=widths, font_size=8), Spacer(1, 2 * pdf.mm)]
    story += [
        pdf.text(f"合计（小写）：¥{_fmt(total)}", st["body"]),
        pdf.text(f"合计（大写）：人民币{amount_in_words(total)}", st["body"]),
    ]
    story += [pdf.text(f"{k}：{v}", st["body"]) for k, v in tail]
    if receipt.is_void:
        story.append(pdf.text(f"本收据已作废：{receipt.void_reason}", st["heading"]))
    qr = Image(io.BytesIO(qr_png(verify_url)), width=24 * pdf.mm, height=24 * pdf.mm)
    check = pdf.text(f"扫码验证收据真伪\n{verify_url}\n{note}".strip(), st["small"])
    story += [Spacer(1, 2 * pdf.mm), qr, check]
    height = (110 + 7 * len(table) + 8 * len(head)) * pdf.mm
    return pdf.build(
        story,
        title=f"收据 {receipt.code}",
        author=company_name(receipt.estate),
        pagesize=(THERMAL_WIDTH, height),
        margin=4 * pdf.mm,
    )


def settled_certificate_pdf(*, unit, party, paid_through: dict[str, str], today: date) -> bytes:
    """物業費結清證明: the unit owes nothing due on `today`; `paid_through` lists each fee
    item and the last period paid."""
    st = pdf.styles(11)
    estate = unit.estate
    story = [
        pdf.text(company_name(estate), st["center"]),
        pdf.text("物业费结清证明", st["title"]),
        pdf.text(
            f"兹证明{estate.name}{unit.number}房（建筑面积{unit.gross_area or '—'}㎡），"
            f"业主{party.name if party else ''}，截至{today:%Y年%m月%d日}，"
            "已缴清到期的物业服务费及相关费用，无欠费。",
            st["body"],
        ),
        Spacer(1, 4 * pdf.mm),
    ]
    if paid_through:
        rows = [["收费项目", "已缴至"]] + [[k, v] for k, v in sorted(paid_through.items())]
        story.append(pdf.table(rows, font_size=10))
    story += [
        Spacer(1, 10 * pdf.mm),
        pdf.text("特此证明。", st["body"]),
        Spacer(1, 10 * pdf.mm),
        pdf.text(f"{company_name(estate)}（盖章）", st["right"]),
        pdf.text(f"{today:%Y年%m月%d日}", st["right"]),
    ]
    return pdf.build(story, title="物业费结清证明", author=company_name(estate))
