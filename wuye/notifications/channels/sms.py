"""SMS through Aliyun (dysmsapi SendSms, RPC signature v1) or Tencent Cloud (SendSms, API v3
with TC3-HMAC-SHA256). Both send a pre-approved provider template with our rendered values as
its parameters; the mapping from our template code lives in WUYE_NOTIFY."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .base import Backend, PermanentError, RetryableError, http_json


# --- Aliyun ----------------------------------------------------------------------------------
def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun signs it: A-Z a-z 0-9 - _ . ~ kept, space as %20."""
    return quote(str(value), safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD & %2F & encode(canonicalized query)))."""
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}"
        for k, v in sorted(params.items())
        if k != "Signature"
    )
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Codes after which a later attempt may pass (flow control, provider trouble).
ALIYUN_RETRYABLE = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isp.SYSTEM_ERROR",
    "isv.DAY_LIMIT_CONTROL",
    "Throttling",
    "Throttling.User",
    "ServiceUnavailable",
    "InternalError",
}


class AliyunSms(Backend):
    name = "aliyun"
    channels = ("sms",)

    def send(self, message) -> str:
        cfg = self.config
        code = cfg.get("templates", {}).get(message.template_code)
        if not code:
            raise PermanentError(f"no Aliyun template configured for {message.template_code!r}")
        params = {
            "AccessKeyId": cfg["access_key_id"],
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": message.address,
            "RegionId": cfg.get("region", "cn-hangzhou"),
            "SignName": cfg["sign_name"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, sort_keys=True),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": cfg.get("version", "2017-05-25"),
            "OutId": str(message.pk),
        }
        params["Signature"] = aliyun_signature(params, cfg["access_key_secret"], "POST")
        answer = http_json(
            "POST",
            cfg["endpoint"],
            body=urlencode(params, quote_via=quote).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            timeout=self.timeout,
        )
        result = answer.get("Code", "")
        if result == "OK":
            return str(answer["BizId"])
        error = f"Aliyun {result}: {answer.get('Message', '')}"
        if result in ALIYUN_RETRYABLE:
            raise RetryableError(error, code=result)
        raise PermanentError(error, code=result)


# --- Tencent Cloud ---------------------------------------------------------------------------
def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(
    *,
    secret_key: str,
    service: str,
    host: str,
    timestamp: int,
    payload: bytes,
    content_type: str = "application/json; charset=utf-8",
) -> tuple[str, str]:
    """(signature, credential scope) of a POST to `/` signed over content-type and host."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            _sha256_hex(payload),
        ]
    )
    scope = f"{day}/{service}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, _sha256_hex(canonical_request.encode())]
    )
    key = _hmac256(f"TC3{secret_key}".encode(), day)
    key = _hmac256(key, service)
    key = _hmac256(key, "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest(), scope


TENCENT_RETRYABLE_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded",
    "ResourceUnavailable",
)


class TencentSms(Backend):
    name = "tencent"
    channels = ("sms",)
    service = "sms"

    def send(self, message) -> str:
        cfg = self.config
        tmpl = cfg.get("templates", {}).get(message.template_code)
        if not tmpl:
            raise PermanentError(f"no Tencent template configured for {message.template_code!r}")
        if isinstance(tmpl, str):
            tmpl = {"id": tmpl, "params": sorted(message.params)}
        phone = message.address if message.address.startswith("+") else f"+86{message.address}"
        payload: dict[str, Any] = {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": cfg["sdk_app_id"],
            "SignName": cfg["sign_name"],
            "TemplateId": str(tmpl["id"]),
            "TemplateParamSet": [str(message.params.get(p, "")) for p in tmpl.get("params", [])],
            "SessionContext": str(message.pk),
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        host = urlsplit(cfg["endpoint"]).netloc
        timestamp = int(time.time())
        signature, scope = tc3_signature(
            secret_key=cfg["secret_key"],
            service=self.service,
            host=host,
            timestamp=timestamp,
            payload=body,
        )
        headers = {
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={cfg['secret_id']}/{scope}, "
                f"SignedHeaders=content-type;host, Signature={signature}"
            ),
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": cfg.get("version", "2021-01-11"),
            "X-TC-Region": cfg.get("region", "ap-guangzhou"),
        }
        answer = http_json(
            "POST", cfg["endpoint"], body=body, headers=headers, timeout=self.timeout
        ).get("Response", {})
        if "Error" in answer:
            code = answer["Error"].get("Code", "")
            error = f"Tencent {code}: {answer['Error'].get('Message', '')}"
            if code.startswith(TENCENT_RETRYABLE_PREFIXES):
                raise RetryableError(error, code=code)
            raise PermanentError(error, code=code)
        status = (answer.get("SendStatusSet") or [{}])[0]
        code = status.get("Code", "")
        if code == "Ok":
            return str(status["SerialNo"])
        error = f"Tencent {code}: {status.get('Message', '')}"
        if code.startswith(TENCENT_RETRYABLE_PREFIXES):
            raise RetryableError(error, code=code)
        raise PermanentError(error, code=code)
