"""The printed documents of the window: receipts (A5, A4, 80 mm thermal) and the fees-settled
certificate (物業費結清證明). Layout only: the data comes from the models and selectors; every
PDF embeds the CJK font (`wuye.core.pdf`)."""

import io
from datetime import date
from decimal import Decimal

import qrcode
from django.conf import settings
from reportlab.lib.pagesizes import A4, A5
from reportlab.platypus import Image, Spacer, Table, TableStyle

from wuye.core import pdf
from wuye.core.amount_words import amount_in_words
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


def _fmt(value) -> str:
    return f"{Decimal(value):,.2f}"


def receipt_pdf(
    receipt: Receipt, *, paper: str = "a5", copy: bool = False, verify_url: str
) -> bytes:
    """The receipt as a PDF on `paper` (a5, a4 or thermal80). `copy` marks a reprint; a void
    receipt says so in its title."""
    if paper not in PAPERS:
        paper = "a5"
    payment = receipt.payment
    estate = receipt.estate
    thermal = paper == "thermal80"
    base = 8 if thermal else 10
    st = pdf.styles(base)
    title = "收款收据"
    if receipt.is_void:
        title += "（作废）"
    elif copy:
        title += "（副本）"
    story = [
        pdf.text(company_name(estate), st["center"]),
        pdf.text(title, st["title"]),
        pdf.text(f"No. {receipt.code}", st["right"] if not thermal else st["center"]),
    ]
    unit = payment.unit.number if payment.unit_id else ""
    head = [
        ("项目", estate.name),
        ("房号", unit or "—"),
        ("缴款人", payment.payer_name or payment.party.name),
        ("日期", f"{receipt.issued_at.astimezone().date():%Y-%m-%d}"),
    ]
    if thermal:
        story += [pdf.text(f"{k}：{v}", st["body"]) for k, v in head]
    else:
        story.append(
            pdf.table(
                [
                    [head[0][0], head[0][1], head[1][0], head[1][1]],
                    [head[2][0], head[2][1], head[3][0], head[3][1]],
                ],
                header=False,
                font_size=base,
            )
        )
    story.append(Spacer(1, 2 * pdf.mm))
    rows = [["收费项目", "期间", "金额（元）"]]
    for line in receipt.lines:
        if line["kind"] == "charge":
            what = line["item"] + ("滞纳金" if line.get("late_fee") else "")
            when = f"{line['from']}至{line['to']}" if not thermal else line["period"]
            rows.append([what, when, _fmt(line["amount"])])
        elif Decimal(line.get("amount", "0")) or line["kind"] == "offer":
            rows.append([line["text"], "", _fmt(line["amount"]) if line["kind"] != "offer" else ""])
    periods = sorted(line["period"] for line in receipt.lines if line["kind"] == "charge")
    widths = [26 * pdf.mm, 24 * pdf.mm, 20 * pdf.mm] if thermal else [None, None, 30 * pdf.mm]
    story.append(pdf.table(rows, col_widths=widths, font_size=base))
    story.append(Spacer(1, 2 * pdf.mm))
    total = payment.amount
    story += [
        pdf.text(f"合计（小写）：¥{_fmt(total)}", st["body"]),
        pdf.text(f"合计（大写）：人民币{amount_in_words(total)}", st["body"]),
    ]
    if periods:
        span = periods[0] if periods[0] == periods[-1] else f"{periods[0]} 至 {periods[-1]}"
        story.append(pdf.text(f"所属期间：{span}", st["body"]))
    method = payment.get_channel_display()
    if payment.external_ref:
        method += f"（{payment.external_ref}）"
    cashier = person_name(payment.created_by)
    story += [
        pdf.text(f"付款方式：{method}", st["body"]),
        pdf.text(f"收款人：{cashier}", st["body"]),
    ]
    if receipt.is_void:
        story.append(pdf.text(f"本收据已作废：{receipt.void_reason}", st["heading"]))
    note = getattr(getattr(estate, "cashier_settings", None), "receipt_note", "")
    qr = Image(io.BytesIO(qr_png(verify_url)), width=24 * pdf.mm, height=24 * pdf.mm)
    check = pdf.text(f"扫码验证收据真伪\n{verify_url}\n{note}".strip(), st["small"])
    if thermal:
        story += [Spacer(1, 2 * pdf.mm), qr, check]
        height = (110 + 7 * len(rows) + 8 * len(head)) * pdf.mm
        pagesize = (THERMAL_WIDTH, height)
        margin = 4 * pdf.mm
    else:
        t = Table([[qr, check]], colWidths=[28 * pdf.mm, None])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [Spacer(1, 3 * pdf.mm), t]
        pagesize = A4 if paper == "a4" else (A5[1], A5[0])  # A5 landscape
        margin = 12 * pdf.mm
    return pdf.build(
        story,
        title=f"收据 {receipt.code}",
        author=company_name(estate),
        pagesize=pagesize,
        margin=margin,
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
