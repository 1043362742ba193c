"""Channel adapters: one small class per provider, `send(message) -> provider_id`.

An adapter raises `RetryableError` when trying again later may work (timeouts, 5xx, rate
limits) and `PermanentError` when it will not (bad number, refused signature, unsubscribed
user). The outbox decides what to do with either."""

from .base import Backend, ChannelError, PermanentError, RetryableError, backend_for

__all__ = ["Backend", "ChannelError", "PermanentError", "RetryableError", "backend_for"]

from .other import AppPush, DemoBackend, LetterPrint, SmtpEmail  # noqa: E402
from .sms import AliyunSms, TencentSms  # noqa: E402
from .wechat import WeChatTemplate  # noqa: E402

BACKENDS: dict[str, type[Backend]] = {
    "demo": DemoBackend,
    "aliyun": AliyunSms,
    "tencent": TencentSms,
    "wechat": WeChatTemplate,
    "push": AppPush,
    "smtp": SmtpEmail,
    "letter": LetterPrint,
}
