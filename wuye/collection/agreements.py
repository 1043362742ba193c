"""The written installment agreement (分期缴费协议) as a PDF for signature.

Parties (the company, the owner), the units, what the plan covers (periods, fee items,
amounts), the schedule, how to pay, and in plain words what happens on a missed instalment.
The owner signs the printout; the signed scan is uploaded to the plan and hashed. Like the
receipts and the demand, the text is the Chinese of the document itself.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from wuye.core import pdf
from wuye.core.amount_words import amount_in_words
from wuye.core.masking import mask_id_number

from .demands import CHANNELS


@dataclass
class AgreementContent:
    """What the agreement prints."""

    company: str
    estate_name: str
    estate_address: str
    hotline: str
    number: str
    party_name: str
    party_id_number: str
    party_mobile: str
    payment_ref: str
    units: list[str]
    covered: list[tuple[str, str, Decimal]]  # (period, fee item, amount owed)
    schedule: list[tuple[date, Decimal]]
    grace_days: int
    drafted_on: date

    @property
    def total(self) -> Decimal:
        return sum((amount for _, _, amount in self.covered), Decimal("0.00"))


def agreement_pdf(content: AgreementContent) -> bytes:
    st = pdf.styles(10.5)
    units = "、".join(content.units)
    flow = [
        pdf.text("分期缴费协议", st["title"]),
        pdf.text(f"协议编号：{content.number}", st["right"]),
        pdf.text(f"甲方（物业服务人）：{content.company}", st["body"]),
        pdf.text(f"项目：{content.estate_name}（{content.estate_address}）", st["body"]),
        pdf.text(
            f"乙方（业主/缴费人）：{content.party_name}    "
            f"证件号码：{mask_id_number(content.party_id_number) or '—'}    "
            f"电话：{content.party_mobile or '—'}",
            st["body"],
        ),
        pdf.text(f"房号：{units}", st["body"]),
        pdf.Spacer(1, 2 * pdf.mm),
        pdf.text(
            "乙方因经济困难，申请分期缴纳所欠物业服务相关费用。经双方协商一致，订立本协议。",
            st["body"],
        ),
        pdf.text("一、欠费确认", st["heading"]),
        pdf.text("乙方确认截至本协议签订之日尚欠下列费用，金额真实无误：", st["body"]),
    ]
    rows = [["所属期间", "收费项目", "欠费（元）"]] + [
        [period, item, f"{amount:,.2f}"] for period, item, amount in content.covered
    ]
    flow += [
        pdf.table(rows, col_widths=[40 * pdf.mm, 70 * pdf.mm, 40 * pdf.mm]),
        pdf.text(
            f"合计：{content.total:,.2f} 元（人民币{amount_in_words(content.total)}）",
            st["body"],
        ),
        pdf.text("二、分期安排", st["heading"]),
    ]
    schedule = [["期数", "缴款日期（不晚于）", "金额（元）"]] + [
        [f"第{i}期", f"{day:%Y年%m月%d日}", f"{amount:,.2f}"]
        for i, (day, amount) in enumerate(content.schedule, start=1)
    ]
    flow += [
        pdf.table(schedule, col_widths=[30 * pdf.mm, 70 * pdf.mm, 50 * pdf.mm]),
        pdf.text(
            f"缴费方式：{CHANNELS}。缴费编号：{content.payment_ref}。"
            "乙方也可以提前缴纳，提前缴纳的部分抵后续各期。",
            st["body"],
        ),
        pdf.text("三、按期缴纳期间", st["heading"]),
        pdf.text(
            "乙方按期缴纳期间，甲方暂停对上述欠费的催缴，不再发送催缴通知，也不采取法律措施。"
            "本协议签订后新产生的物业费，乙方仍应按期缴纳。",
            st["body"],
        ),
        pdf.text("四、逾期未缴的后果", st["heading"]),
        pdf.text(
            f"任何一期超过约定日期{content.grace_days}日仍未足额缴纳的，视为乙方违约：本协议终止，"
            "剩余未缴的全部欠费立即到期，甲方恢复催缴，并可依法通过诉讼、支付令或仲裁追收。"
            "乙方已缴纳的款项不予退还，抵扣所欠费用。",
            st["body"],
        ),
        pdf.text("五、其他", st["heading"]),
        pdf.text(
            "本协议一式两份，甲乙双方各执一份，自双方签字（盖章）之日起生效。"
            f"如有疑问，请致电 {content.hotline}。",
            st["body"],
        ),
        pdf.Spacer(1, 12 * pdf.mm),
        pdf.table(
            [
                ["甲方（盖章）：", "", "乙方（签字）：", ""],
                ["经办人：", "", "日期：", ""],
                ["日期：", "", "", ""],
            ],
            header=False,
            col_widths=[28 * pdf.mm, 55 * pdf.mm, 28 * pdf.mm, 55 * pdf.mm],
        ),
        pdf.Spacer(1, 4 * pdf.mm),
        pdf.text(f"拟定日期：{content.drafted_on:%Y年%m月%d日}", st["small"]),
    ]
    return pdf.build(
        flow,
        title=f"分期缴费协议 {content.number}",
        author=content.company,
        footer=lambda n: f"第 {n} 页",
    )
