"""PDFs of billing: the statement of account (對賬單) and the payment notice (繳費通知單).

Both embed a CJK font subset (`wuye.core.pdf`) and are read back in tests with pdftotext."""

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from wuye.core import pdf
from wuye.core.amount_words import amount_in_words
from wuye.core.money import ZERO
from wuye.registry.models import Party

from .periods import Period
from .selectors import notice_charges, party_statement

CHANNELS = "银行转账（附言填写缴费编号）、微信/支付宝在线缴费、物业服务中心收费窗口"


def _company(estate) -> str:
    return estate.company_name or settings.WUYE["COMPANY_NAME"]


def statement_pdf(party: Party, *, start: date | None = None, end: date | None = None) -> bytes:
    """The party's statement of account with a running balance."""
    st = pdf.styles()
    statement = party_statement(party, start=start, end=end)
    estate = party.estate
    flow = [
        pdf.text(f"{_company(estate)} {estate.name}", st["center"]),
        pdf.text("对账单", st["title"]),
        pdf.text(
            f"业主/缴费人：{party.name}    缴费编号：{party.payment_ref}    "
            f"日期：{timezone.localdate()}",
            st["body"],
        ),
        pdf.Spacer(1, 4 * pdf.mm),
    ]
    rows = [["日期", "摘要", "应收", "已收/冲减", "余额"]]
    if start:
        rows.append([str(start), "期初余额", "", "", f"{statement.opening:,.2f}"])
    for line in statement.lines:
        rows.append(
            [
                str(line.date),
                line.text,
                f"{line.debit:,.2f}" if line.debit else "",
                f"{line.credit:,.2f}" if line.credit else "",
                f"{line.balance:,.2f}",
            ]
        )
    flow.append(
        pdf.table(
            rows, col_widths=[24 * pdf.mm, 86 * pdf.mm, 22 * pdf.mm, 22 * pdf.mm, 22 * pdf.mm]
        )
    )
    words = amount_in_words(max(statement.closing, ZERO))
    flow += [
        pdf.Spacer(1, 4 * pdf.mm),
        pdf.text(f"期末欠费合计：{statement.closing:,.2f} 元（{words}）", st["body"]),
        *_collection_account(estate, st),
        pdf.text(f"服务热线：{estate.hotline}", st["small"]),
    ]
    return pdf.build(
        flow, title=f"对账单 {party.name}", author=_company(estate), footer=lambda n: f"第 {n} 页"
    )


def _collection_account(estate, st) -> list:
    """The estate's collection account (收款账户), when finance has set one."""
    if not estate.has_collection_account:
        return []
    return [
        pdf.text(f"收款账户：{estate.bank_account_name}    开户行：{estate.bank_name}", st["body"]),
        pdf.text(f"账号：{estate.bank_account_grouped()}", st["body"]),
    ]


def payment_notice_pdf(party: Party, period: str) -> bytes:
    """The payment notice of `period` for the party: what is due (the period's charges and
    earlier arrears), by when, the payment reference for bank transfers, channels, hotline."""
    p = Period.parse(period)
    st = pdf.styles()
    estate = party.estate
    charges = notice_charges(party, str(p))
    total = sum((c.outstanding for c in charges), ZERO)
    deadline = max((c.due_date for c in charges), default=p.end + timedelta(days=30))
    rows = [["房号", "项目", "期间", "应收", "未缴", "缴费期限"]]
    for c in charges:
        rows.append(
            [
                c.unit.number,
                c.label,
                f"{c.period_start}~{c.period_end}",
                f"{c.amount:,.2f}",
                f"{c.outstanding:,.2f}",
                str(c.due_date),
            ]
        )
    flow = [
        pdf.text(f"{_company(estate)} {estate.name}", st["center"]),
        pdf.text(f"缴费通知单 {p}", st["title"]),
        pdf.text(f"尊敬的 {party.name}：", st["body"]),
        pdf.text(f"您 {p} 期及以前的物业相关费用如下，请于 {deadline} 前缴纳。", st["body"]),
        pdf.Spacer(1, 3 * pdf.mm),
        pdf.table(rows),
        pdf.Spacer(1, 3 * pdf.mm),
        pdf.text(f"合计应缴：{total:,.2f} 元（{amount_in_words(total)}）", st["body"]),
        pdf.text(f"缴费编号（银行转账请在附言中填写）：{party.payment_ref}", st["heading"]),
        *_collection_account(estate, st),
        pdf.text(f"缴费方式：{CHANNELS}", st["body"]),
        pdf.text(f"服务热线：{estate.hotline}    地址：{estate.address}", st["body"]),
        pdf.text("如对费用有异议，请致电服务热线，我们将在承诺时限内答复。", st["small"]),
    ]
    return pdf.build(flow, title=f"缴费通知单 {party.name} {p}", author=_company(estate))
