"""The formal demand (催缴通知书): what it says, and its PDF.

A formal demand is stage 3 of DESIGN.md §5: the company and estate, the owner and units, the
arrears by period and fee item, the late fee only where the service contract in force has a
late-fee clause (at its rate, capped; otherwise late fees are neither listed nor mentioned), a
final deadline, the legal consequences in plain words, and the ways out (pay, a plan, a
dispute). It never threatens what the law forbids (cutting utilities, access, publishing
names).

`demand_content` gathers the facts (from the books, as of `today`); `demand_pdf` prints one
or many as a single PDF, each demand starting on a new page, so a batch goes to the printer
at once. The text is the Chinese of the legal document, as on receipts and statements.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from reportlab.platypus import PageBreak

from wuye.billing.models import Charge
from wuye.billing.services.late_fees import PRINCIPAL_KINDS, contract_in_force
from wuye.core import pdf
from wuye.core.amount_words import amount_in_words
from wuye.core.money import ZERO
from wuye.registry.models import Estate, Party, ServiceContract

CHANNELS = "银行转账（附言填写缴费编号）、微信/支付宝在线缴费、物业服务中心收费窗口"


@dataclass
class DemandRow:
    """Arrears of one period and fee item (all units of the party)."""

    period: str
    item: str
    units: str
    amount: Decimal
    outstanding: Decimal
    due_date: date


@dataclass
class DemandContent:
    """Everything a demand prints; built by `demand_content`."""

    estate: Estate
    party: Party
    number: str
    issued_on: date
    deadline: date
    units: list[str]
    address: str
    rows: list[DemandRow]
    late_fee_rows: list[DemandRow] = field(default_factory=list)
    contract: ServiceContract | None = None
    charge_ids: list[int] = field(default_factory=list)

    @property
    def company(self) -> str:
        return self.estate.company_name or settings.WUYE["COMPANY_NAME"]

    @property
    def principal_total(self) -> Decimal:
        return sum((r.outstanding for r in self.rows), ZERO)

    @property
    def late_fee_total(self) -> Decimal:
        return sum((r.outstanding for r in self.late_fee_rows), ZERO)

    @property
    def total(self) -> Decimal:
        return self.principal_total + self.late_fee_total

    @property
    def periods(self) -> list[str]:
        return sorted({r.period for r in self.rows} | {r.period for r in self.late_fee_rows})

    @property
    def late_fee_allowed(self) -> bool:
        c = self.contract
        return bool(c and c.has_late_fee_clause and c.late_fee_daily_rate)


def overdue_charges(party: Party, *, today: date, charge_ids=None):
    """The party's charges owed and past due on `today` (all of them, or those in
    `charge_ids`), oldest first."""
    qs = Charge.objects.filter(
        party=party, status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=today
    )
    if charge_ids is not None:
        qs = qs.filter(pk__in=list(charge_ids))
    return qs.select_related("unit", "fee_item").order_by("period", "fee_item_id", "unit_id", "id")


def _rows(charges) -> list[DemandRow]:
    grouped: dict[tuple[str, str], DemandRow] = {}
    for c in charges:
        key = (c.period, c.fee_item.name)
        row = grouped.get(key)
        if row is None:
            grouped[key] = DemandRow(
                c.period, c.fee_item.name, c.unit.number, c.amount, c.outstanding, c.due_date
            )
            continue
        if c.unit.number not in row.units.split("、"):
            row.units += f"、{c.unit.number}"
        row.amount += c.amount
        row.outstanding += c.outstanding
        row.due_date = min(row.due_date, c.due_date)
    return list(grouped.values())


def demand_content(
    *,
    party: Party,
    today: date,
    deadline: date,
    number: str = "",
    charge_ids=None,
) -> DemandContent:
    """The facts of a demand to `party` on `today`: its overdue charges (or those in
    `charge_ids`) by period and fee item; late fees only under a contract clause."""
    contract = contract_in_force(party.estate, today)
    charges = list(overdue_charges(party, today=today, charge_ids=charge_ids))
    principals = [c for c in charges if c.kind in PRINCIPAL_KINDS]
    late_fees = [c for c in charges if c.kind == Charge.Kind.LATE_FEE]
    content = DemandContent(
        estate=party.estate,
        party=party,
        number=number,
        issued_on=today,
        deadline=deadline,
        units=sorted({c.unit.number for c in charges}),
        address=party.mailing_address,
        rows=_rows(principals),
        contract=contract,
    )
    if content.late_fee_allowed:
        content.late_fee_rows = _rows(late_fees)
        content.charge_ids = [c.pk for c in charges]
    else:
        content.charge_ids = [c.pk for c in principals]
    return content


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _rate_words(rate: Decimal) -> str:
    """0.0003 -> 万分之三; other rates as a per-mille figure."""
    per_10k = rate * 10000
    if per_10k == per_10k.to_integral_value():
        return f"万分之{int(per_10k)}"
    return f"{(rate * 1000).normalize():f}‰"


def _story(content: DemandContent, st) -> list:
    party, estate = content.party, content.estate
    units = "、".join(content.units)
    flow = [
        pdf.text(f"{content.company}  {estate.name}", st["center"]),
        pdf.text("催缴通知书", st["title"]),
        pdf.text(
            f"编号：{content.number or '—'}    日期：{content.issued_on:%Y年%m月%d日}", st["right"]
        ),
        pdf.text(f"{party.name} 先生/女士：", st["heading"]),
        pdf.text(
            f"您是{estate.name}{units}房的业主（缴费人）。截至{content.issued_on:%Y年%m月%d日}，"
            f"您尚欠下列物业服务相关费用，我司此前已多次提醒。现正式书面通知您缴纳：",
            st["body"],
        ),
        pdf.Spacer(1, 2 * pdf.mm),
    ]
    rows = [["所属期间", "收费项目", "房号", "应收（元）", "欠费（元）", "原缴费期限"]]
    for r in content.rows:
        rows.append(
            [r.period, r.item, r.units, _money(r.amount), _money(r.outstanding), str(r.due_date)]
        )
    for r in content.late_fee_rows:
        rows.append(
            [r.period, f"{r.item}滞纳金", r.units, _money(r.amount), _money(r.outstanding), ""]
        )
    widths = [20 * pdf.mm, 34 * pdf.mm, 30 * pdf.mm, 26 * pdf.mm, 26 * pdf.mm, 28 * pdf.mm]
    flow.append(pdf.table(rows, col_widths=widths))
    flow.append(pdf.Spacer(1, 2 * pdf.mm))
    flow.append(pdf.text(f"欠费本金合计：{_money(content.principal_total)} 元", st["body"]))
    if content.late_fee_allowed:
        c = content.contract
        cap = (
            "不超过欠费本金"
            if c.late_fee_cap_ratio >= 1
            else f"不超过欠费本金的{c.late_fee_cap_ratio * 100:.0f}%"
        )
        flow += [
            pdf.text(f"滞纳金合计：{_money(content.late_fee_total)} 元", st["body"]),
            pdf.text(
                f"依据《物业服务合同》（编号 {c.number}）的约定，逾期缴纳的费用自逾期"
                f"{c.late_fee_grace_days}日后按日{_rate_words(c.late_fee_daily_rate)}计收滞纳金，"
                f"单利计算，累计{cap}。",
                st["small"],
            ),
        ]
    flow += [
        pdf.text(
            f"应缴合计：{_money(content.total)} 元（人民币{amount_in_words(content.total)}）",
            st["heading"],
        ),
        pdf.text(
            f"请您于 {content.deadline:%Y年%m月%d日} 前缴清上述费用。这是最后的缴费期限。",
            st["heading"],
        ),
        pdf.text("逾期不缴的后果", st["heading"]),
        pdf.text(
            "如您在上述期限内仍未缴纳，也未与我司达成分期或其他约定，我司将依据《中华人民共和国民法典》"
            "第九百四十四条的规定，通过法律途径（向人民法院起诉、申请支付令或申请仲裁）追收欠费。"
            "届时，诉讼费、保全费等费用可能依法由您承担；法院判决或裁定生效后仍不履行的，"
            "可能被依法强制执行。",
            st["body"],
        ),
        pdf.text(
            "本通知书同时是我司向您主张权利的书面凭证，依法中断诉讼时效。"
            "我司不会因欠费停止供水、供电、供气、供热，也不会限制您进出小区。",
            st["body"],
        ),
        pdf.text("您可以怎样解决", st["heading"]),
        pdf.text(
            "如您对费用或服务有异议，请在期限内联系我们，我们将派单处理并在承诺时限内答复；"
            "如您确有经济困难，可以申请分期缴纳，我们将与您签订书面分期协议。",
            st["body"],
        ),
        pdf.text(f"缴费编号（银行转账请在附言中填写）：{party.payment_ref}", st["body"]),
    ]
    if estate.has_collection_account:
        flow.append(
            pdf.text(
                f"收款账户：{estate.bank_account_name}  开户行：{estate.bank_name}  "
                f"账号：{estate.bank_account_grouped()}",
                st["body"],
            )
        )
    flow += [
        pdf.text(f"缴费方式：{CHANNELS}", st["body"]),
        pdf.text(f"服务热线：{estate.hotline}    地址：{estate.address}", st["body"]),
        pdf.Spacer(1, 8 * pdf.mm),
        pdf.text(f"{content.company}（盖章）", st["right"]),
        pdf.text(f"{content.issued_on:%Y年%m月%d日}", st["right"]),
        pdf.Spacer(1, 8 * pdf.mm),
        pdf.text("签收栏（专人送达时由业主填写）", st["small"]),
        pdf.table(
            [["签收人", "", "签收日期", ""], ["与业主关系", "本人 / 家属（注明）", "送达人", ""]],
            header=False,
            col_widths=[24 * pdf.mm, 58 * pdf.mm, 24 * pdf.mm, 58 * pdf.mm],
        ),
    ]
    return flow


def demand_pdf(contents: list[DemandContent]) -> bytes:
    """One PDF of every demand in `contents`, each starting on a new page."""
    st = pdf.styles(10.5)
    flow: list = []
    for index, content in enumerate(contents):
        if index:
            flow.append(PageBreak())
        flow += _story(content, st)
    title = "催缴通知书"
    if len(contents) == 1:
        title += f" {contents[0].party.name}"
    author = contents[0].company if contents else ""
    return pdf.build(flow, title=title, author=author, footer=lambda n: f"第 {n} 页")
