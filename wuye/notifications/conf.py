"""The notification settings, read from `settings.WUYE_NOTIFY` over these defaults.

Every key is optional; the defaults send through the `demo` backend (no network) and print
letters. See the README table in the app's report for what a deployment sets."""

import copy
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # channel -> backend: demo | aliyun | tencent (sms) | wechat | push (app) | smtp (email)
    # | letter (print batches)
    "backends": {
        "sms": "demo",
        "wechat": "demo",
        "app": "demo",
        "email": "demo",
        "letter": "letter",
    },
    "max_attempts": 3,  # per message and channel, then the next preferred channel
    "retry_base_seconds": 60,  # 60 s, 120 s, 240 s ... (exponential)
    "retry_max_seconds": 3600,
    "default_language": "zh-hans",
    "http_timeout": 10,
    # token a provider's delivery report URL must carry (?token=...); empty refuses reports
    "receipt_token": "",
    "aliyun": {
        "endpoint": "https://dysmsapi.aliyuncs.com/",
        "region": "cn-hangzhou",
        "version": "2017-05-25",
        "access_key_id": "",
        "access_key_secret": "",
        "sign_name": "",
        "templates": {},  # our template code -> Aliyun TemplateCode (SMS_123456789)
    },
    "tencent": {
        "endpoint": "https://sms.tencentcloudapi.com/",
        "region": "ap-guangzhou",
        "version": "2021-01-11",
        "secret_id": "",
        "secret_key": "",
        "sdk_app_id": "",
        "sign_name": "",
        "templates": {},  # our template code -> {"id": "123456", "params": ["owner", "amount"]}
    },
    "wechat": {
        "api_base": "https://api.weixin.qq.com",
        "app_id": "",
        "app_secret": "",
        "token": "",  # the server token of the official account's callback URL
        "url": "",  # where tapping the message leads (the owner portal)
        "templates": {},  # our code -> {"id": "TEMPLATE_ID", "fields": {"thing1": "unit", ...}}
    },
    "push": {"url": "", "secret": "", "header": "X-Wuye-Signature"},
    "email": {
        "host": "localhost",
        "port": 25,
        "username": "",
        "password": "",
        "use_tls": False,
        "use_ssl": False,
        "from_email": "noreply@localhost",
        "timeout": 10,
    },
    # how to pay, per language: fills {channels}
    "payment_channels": {
        "zh-hans": "微信/支付宝扫码、物业服务中心窗口或银行转账(附言缴费编号 {payment_ref})",
        "zh-hant": "微信/支付寶掃碼、物業服務中心窗口或銀行轉賬(附言繳費編號 {payment_ref})",
        "en": "WeChat Pay/Alipay, the service centre, or bank transfer (reference {payment_ref})",
    },
}


def notify_settings() -> dict[str, Any]:
    """DEFAULTS with `settings.WUYE_NOTIFY` laid over them, one level deep per section."""
    merged = copy.deepcopy(DEFAULTS)
    for key, value in getattr(settings, "WUYE_NOTIFY", {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged
