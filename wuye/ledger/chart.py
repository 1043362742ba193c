"""The chart of accounts every estate's books use (codes after the PRC enterprise chart, so a
voucher export imports into Kingdee or Yonyou with little mapping).

Revenue per fee item is a sub-account of REVENUE (`6001.<item code>`), created when the item is.
Postings carry the estate, so every account is kept per estate without per-estate codes."""

CASH = "1001"  # 库存现金 cash box at the window
BANK = "1002"  # 银行存款
CLEARING_WECHAT = "1012.01"  # 其他货币资金-微信 (until the channel settles to the bank)
CLEARING_ALIPAY = "1012.02"  # 其他货币资金-支付宝
CLEARING_POS = "1012.03"  # 其他货币资金-POS
CLEARING_AUTODEBIT = "1012.04"  # 其他货币资金-银行代扣
RECEIVABLE = "1122"  # 应收账款 (control account of the receivables subledger)
PREPAYMENTS = "2203"  # 预收账款 (owners' prepayment balances)
# 合同负债 (advance receipts): fees of a period that starts after the month they were raised in
# (a bill run in advance, paying ahead at the window), until the monthly recognition moves them
# to the item's revenue in their month (`wuye recognise-revenue`, DESIGN.md §4).
CONTRACT_LIABILITY = "2204"
DEPOSITS = "2241.01"  # 其他应付款-押金 (renovation and other deposits held)
PASS_THROUGH = "2241.02"  # 其他应付款-代收款 (money collected for utilities, not revenue)
REVENUE = "6001"  # 主营业务收入-物业服务 (parent of per-item revenue)
LATE_FEE_INCOME = "6051"  # 其他业务收入-滞纳金
WAIVERS = "6601.01"  # 销售费用-减免 (waivers and small-change round-offs granted)
REFUNDS_PAYABLE = "2241.03"  # 其他应付款-待退款
OPENING_BALANCES = "4199"  # 期初余额过渡: counter-account of balances moved in from an old system
# 其他应付款-待查明款项: money received that could not be posted to an owner (an online payment
# for an expired order, a wrong amount, paid twice ...), one sub-account per channel so each
# channel's clearing account reconciles with its provider (docs/adr/0011).
SUSPENSE = "2241.04"
SUSPENSE_WECHAT = "2241.04.01"
SUSPENSE_ALIPAY = "2241.04.02"
SUSPENSE_BANK = "2241.04.03"
OTHER_INCOME = "6301"  # 营业外收入 (suspense money written off: never claimed, not refundable)

# code -> (name, kind); kind is asset / liability / income / expense (normal balance side).
ACCOUNTS = {
    CASH: ("库存现金", "asset"),
    BANK: ("银行存款", "asset"),
    CLEARING_WECHAT: ("其他货币资金-微信支付", "asset"),
    CLEARING_ALIPAY: ("其他货币资金-支付宝", "asset"),
    CLEARING_POS: ("其他货币资金-POS", "asset"),
    CLEARING_AUTODEBIT: ("其他货币资金-银行代扣", "asset"),
    RECEIVABLE: ("应收账款", "asset"),
    PREPAYMENTS: ("预收账款", "liability"),
    CONTRACT_LIABILITY: ("合同负债-预收服务费", "liability"),
    DEPOSITS: ("其他应付款-押金", "liability"),
    PASS_THROUGH: ("其他应付款-代收款", "liability"),
    REFUNDS_PAYABLE: ("其他应付款-待退款", "liability"),
    OPENING_BALANCES: ("期初余额过渡", "liability"),
    SUSPENSE: ("其他应付款-待查明款项", "liability"),
    SUSPENSE_WECHAT: ("其他应付款-待查明款项-微信支付", "liability"),
    SUSPENSE_ALIPAY: ("其他应付款-待查明款项-支付宝", "liability"),
    SUSPENSE_BANK: ("其他应付款-待查明款项-银行", "liability"),
    REVENUE: ("主营业务收入-物业服务", "income"),
    LATE_FEE_INCOME: ("其他业务收入-滞纳金", "income"),
    WAIVERS: ("销售费用-减免", "expense"),
    OTHER_INCOME: ("营业外收入", "income"),
}


def revenue_account(item_code: str) -> str:
    """The revenue sub-account of a fee item, e.g. `6001.PROPERTY`."""
    return f"{REVENUE}.{item_code}"
