"""The default templates every estate starts with: the bill notice, three reminder tones
(friendly, firmer, formal), the one-time code and the welcome notice to a new payer, in
zh-hans, zh-hant and English.

They are created by migration 0002 and again after every migrate (post_migrate), so a database
flushed by a test, or one where they were deleted by hand, always has them. A template staff
have replaced by a newer version is not recreated."""

TEMPLATES = [
    # code, purpose, language, subject, body
    (
        "bill_notice",
        "bill_notice",
        "zh-hans",
        "{estate}{period}物业费缴费通知",
        "尊敬的{owner}业主:您好!您名下{unit}的{period}物业费共计{amount}元,请于{due_date}前缴纳。"
        "缴费方式:{channels}。如有疑问请致电{hotline}。{estate}物业服务中心",
    ),
    (
        "bill_notice",
        "bill_notice",
        "zh-hant",
        "{estate}{period}物業費繳費通知",
        "尊敬的{owner}業主:您好!您名下{unit}的{period}物業費共計{amount}元,請於{due_date}前繳納。"
        "繳費方式:{channels}。如有疑問請致電{hotline}。{estate}物業服務中心",
    ),
    (
        "bill_notice",
        "bill_notice",
        "en",
        "{estate}: property fee notice for {period}",
        "Dear {owner}, the property fee for {unit} for {period} is {amount} yuan, due by "
        "{due_date}. You can pay by {channels}. Questions: {hotline}. {estate} service centre",
    ),
    (
        "reminder_friendly",
        "reminder",
        "zh-hans",
        "温馨提示",
        "亲爱的{owner}业主,温馨提醒您名下{unit}的{period}物业费{amount}元已逾期,请您抽空缴纳,"
        "感谢您的支持!缴费方式:{channels}。咨询电话{hotline}。",
    ),
    (
        "reminder_friendly",
        "reminder",
        "zh-hant",
        "溫馨提示",
        "親愛的{owner}業主,溫馨提醒您名下{unit}的{period}物業費{amount}元已逾期,請您抽空繳納,"
        "感謝您的支持!繳費方式:{channels}。諮詢電話{hotline}。",
    ),
    (
        "reminder_friendly",
        "reminder",
        "en",
        "A friendly reminder",
        "Dear {owner}, a friendly reminder that the property fee of {amount} yuan for {unit} "
        "({period}) is overdue. Please pay when you can ({channels}); thank you for your "
        "support! Questions: {hotline}.",
    ),
    (
        "reminder_firm",
        "reminder",
        "zh-hans",
        "物业费逾期提醒",
        "{owner}业主:您名下{unit}的{period}物业费{amount}元已超过缴费期限({due_date}),至今未缴。"
        "请尽快缴纳;如对服务有异议或缴费确有困难,请致电{hotline}与我们沟通。{estate}物业服务中心",
    ),
    (
        "reminder_firm",
        "reminder",
        "zh-hant",
        "物業費逾期提醒",
        "{owner}業主:您名下{unit}的{period}物業費{amount}元已超過繳費期限({due_date}),至今未繳。"
        "請盡快繳納;如對服務有異議或繳費確有困難,請致電{hotline}與我們溝通。{estate}物業服務中心",
    ),
    (
        "reminder_firm",
        "reminder",
        "en",
        "Overdue property fee",
        "Dear {owner}, the property fee of {amount} yuan for {unit} ({period}) was due on "
        "{due_date} and is still unpaid. Please pay soon; if you disagree with the service or "
        "cannot pay now, call us on {hotline} so we can find a way. {estate} service centre",
    ),
    (
        "reminder_formal",
        "formal_demand",
        "zh-hans",
        "催缴通知书",
        "{owner}业主:根据物业服务合同,您名下{unit}自{period}起的物业费共计{amount}元"
        "已逾期未缴(缴费期限{due_date})。现正式通知您于收到本通知之日起十五日内缴清。"
        "如有异议,请于上述期限内致电{hotline}或到物业服务中心提出。缴费方式:{channels}。"
        "{estate}物业服务中心",
    ),
    (
        "reminder_formal",
        "formal_demand",
        "zh-hant",
        "催繳通知書",
        "{owner}業主:根據物業服務合同,您名下{unit}自{period}起的物業費共計{amount}元"
        "已逾期未繳(繳費期限{due_date})。現正式通知您於收到本通知之日起十五日內繳清。"
        "如有異議,請於上述期限內致電{hotline}或到物業服務中心提出。繳費方式:{channels}。"
        "{estate}物業服務中心",
    ),
    (
        "reminder_formal",
        "formal_demand",
        "en",
        "Formal demand for payment",
        "Dear {owner}, under the property service contract the property fees for {unit} from "
        "{period}, {amount} yuan in total, are overdue (due {due_date}). You are formally "
        "requested to pay them within fifteen days of receiving this notice. If you dispute "
        "them, call {hotline} or visit the service centre within that time. Payment: "
        "{channels}. {estate} service centre",
    ),
    (
        "welcome",
        "welcome",
        "zh-hans",
        "欢迎入住{estate}",
        "尊敬的{owner}:您好!欢迎入住{estate}{unit}。您的物业费自{fee_start_date}起计收,"
        "适用的收费标准为:{fee_standards}。您的缴费编号为{payment_ref},银行转账请在附言中填写;"
        "收款账户:{bank_account}。缴费方式:{channels}。如有疑问请致电{hotline}。{estate}物业服务中心",
    ),
    (
        "welcome",
        "welcome",
        "zh-hant",
        "歡迎入住{estate}",
        "尊敬的{owner}:您好!歡迎入住{estate}{unit}。您的物業費自{fee_start_date}起計收,"
        "適用的收費標準為:{fee_standards}。您的繳費編號為{payment_ref},銀行轉賬請在附言中填寫;"
        "收款賬戶:{bank_account}。繳費方式:{channels}。如有疑問請致電{hotline}。{estate}物業服務中心",
    ),
    (
        "welcome",
        "welcome",
        "en",
        "Welcome to {estate}",
        "Dear {owner}, welcome to {unit} at {estate}. Your property fees start on "
        "{fee_start_date}; the fee standards that apply: {fee_standards}. Your payment reference "
        "is {payment_ref}: write it in the memo of a bank transfer to {bank_account}. You can "
        "pay by {channels}. Questions: {hotline}. {estate} service centre",
    ),
    (
        "one_time_code",
        "one_time_code",
        "zh-hans",
        "",
        "您的验证码为{code},10分钟内有效。如非本人操作请忽略。【{estate}】",
    ),
    (
        "one_time_code",
        "one_time_code",
        "zh-hant",
        "",
        "您的驗證碼為{code},10分鐘內有效。如非本人操作請忽略。【{estate}】",
    ),
    (
        "one_time_code",
        "one_time_code",
        "en",
        "",
        "Your code is {code}, valid for 10 minutes. Ignore this if you did not ask for it. "
        "[{estate}]",
    ),
]


def templates_ensure_defaults(model=None) -> int:
    """Create each default template that has no version at all yet; returns how many."""
    if model is None:
        from .models import MessageTemplate as model
    created = 0
    for code, purpose, language, subject, body in TEMPLATES:
        if model.objects.filter(code=code, channel="", language=language).exists():
            continue
        model.objects.create(
            code=code,
            channel="",
            language=language,
            version=1,
            purpose=purpose,
            subject=subject,
            body=body,
            name=code,
        )
        created += 1
    return created
