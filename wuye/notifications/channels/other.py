"""App push (a signed webhook), e-mail over SMTP, printed letters, and the demo backend."""

import hashlib
import hmac
import json
import smtplib
import time
from collections import deque
from email.utils import make_msgid

from django.core.mail import EmailMessage, get_connection

from .base import Backend, PermanentError, RetryableError, http_json


def push_signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 over `timestamp.body`, the value of the signature header."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class AppPush(Backend):
    """POSTs the message to the app's push gateway. Headers: `X-Wuye-Timestamp` and the
    signature header (default `X-Wuye-Signature`) = HMAC-SHA256(secret, timestamp + "." +
    body). The gateway answers JSON with its `id`."""

    name = "push"
    channels = ("app",)

    def send(self, message) -> str:
        cfg = self.config
        if not cfg.get("url") or not cfg.get("secret"):
            raise PermanentError("app push has no url or secret configured")
        body = json.dumps(
            {
                "message_id": message.pk,
                "party": message.party.payment_ref,
                "purpose": message.purpose,
                "title": message.subject,
                "text": message.text,
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Wuye-Timestamp": timestamp,
            cfg.get("header") or "X-Wuye-Signature": push_signature(cfg["secret"], timestamp, body),
        }
        answer = http_json("POST", cfg["url"], body=body, headers=headers, timeout=self.timeout)
        return str(answer.get("id") or f"push-{message.pk}")


class SmtpEmail(Backend):
    """E-mail through Django's SMTP backend with the host and account of WUYE_NOTIFY["email"].
    The provider id is the Message-ID header."""

    name = "smtp"
    channels = ("email",)

    def send(self, message) -> str:
        cfg = self.config
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=cfg["host"],
            port=int(cfg["port"]),
            username=cfg.get("username") or None,
            password=cfg.get("password") or None,
            use_tls=bool(cfg.get("use_tls")),
            use_ssl=bool(cfg.get("use_ssl")),
            timeout=cfg.get("timeout", self.timeout),
            fail_silently=False,
        )
        message_id = make_msgid(idstring=f"wuye{message.pk}", domain="wuye.local")
        mail = EmailMessage(
            subject=message.subject or message.text[:40],
            body=message.text,
            from_email=cfg.get("from_email"),
            to=[message.address],
            headers={"Message-ID": message_id},
            connection=connection,
        )
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"recipient refused: {exc.recipients}", code="refused") from exc
        except smtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise RetryableError(error, code=str(exc.smtp_code)) from exc
            raise PermanentError(error, code=str(exc.smtp_code)) from exc
        except (TimeoutError, smtplib.SMTPException, ConnectionError, OSError) as exc:
            raise RetryableError(f"SMTP: {exc}", code="network") from exc
        return message_id.strip("<>")


class LetterPrint(Backend):
    """A letter is "sent" when it joins the print queue; `letter_batch_create` prints the
    queue as one PDF, and a registered-mail number or signed receipt marks it delivered."""

    name = "print"
    channels = ("letter",)

    def send(self, message) -> str:
        if not message.address:
            raise PermanentError("no postal address", code="no_address")
        return f"letter-{message.pk}"


class DemoBackend(Backend):
    """Records the message as sent and delivered, without network (demo and default).

    `phone` stands for the owners' handsets: the last texts delivered by this process, kept
    in memory only (never stored, never logged), so that a test can read the one-time code
    the owner received once the outbox has erased it."""

    name = "demo"
    confirms_delivery = True
    phone: deque = deque(maxlen=50)

    def send(self, message) -> str:
        self.phone.append((message.address, message.text))
        return f"demo-{message.channel}-{message.pk}"
