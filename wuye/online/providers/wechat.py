"""WeChat Pay API v3 through the `wechatpayv3` SDK (pinned 2.0.4).

Requests are signed by the SDK (`build_authorization`), responses verified by the SDK
(`Core._verify_signature`); notifications are verified with the SDK's `rsa_verify` over
`timestamp\\nnonce\\nbody\\n` of the raw request bytes and decrypted with its `aes_decrypt`
(AEAD_AES_256_GCM with the APIv3 key). Two verification modes, as WeChat Pay has them: the
platform certificate (Wechatpay-Serial is the certificate's serial number) and the WeChat Pay
public key (Wechatpay-Serial is its id, `PUB_KEY_ID_...`).

Two deliberate departures from the SDK's own `callback()`: an unknown serial is refused instead
of fetching certificates from the network inside the request, and the timestamp must be
within the tolerance (5 minutes) of our clock, which the SDK does not check."""

import json
import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from requests.structures import CaseInsensitiveDict
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core
from wechatpayv3.type import RequestType
from wechatpayv3.utils import (
    aes_decrypt,
    build_authorization,
    load_certificate,
    load_public_key,
    rsa_verify,
)

from ..conf import pem
from .base import NotifyRejected, PayStart, ProviderError, Transaction, Transport

GATEWAY = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
PAID_STATES = {"SUCCESS"}


def to_fen(amount: Decimal) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError("an amount in yuan has at most 2 decimal places")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


class _Core(Core):
    """The SDK's Core with a pluggable transport and certificates from the configuration
    (never downloaded inside a request)."""

    def __init__(self, *, transport: Transport, gateway: str, platform_certs: list[str], **kwargs):
        self._transport = transport
        self._preloaded = [c for c in (load_certificate(p) for p in platform_certs) if c]
        super().__init__(**kwargs)
        self._gate_way = gateway.rstrip("/")

    def _init_certificates(self):
        self._certificates = list(self._preloaded)

    def _update_certificates(self):
        """Certificates come from the configuration (see README: download them with the
        SDK's certificate tool); an unknown serial is refused, not fetched."""

    def request(
        self,
        path,
        method=RequestType.GET,
        data=None,
        skip_verify=False,
        sign_data=None,
        files=None,
        cipher_data=False,
        headers=None,
    ):
        headers = dict(headers or {})
        headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "wuye (wechatpayv3 2.0.4)",
            }
        )
        if self._public_key_id:
            headers["Wechatpay-Serial"] = self._public_key_id
        headers["Authorization"] = build_authorization(
            path,
            method.value,
            self._mchid,
            self._cert_serial_no,
            self._private_key,
            data=sign_data if sign_data else data,
        )
        body = b""
        if data and method != RequestType.GET:
            body = (data if isinstance(data, str) else json.dumps(data)).encode()
        resp = self._transport.request(method.value, self._gate_way + path, headers, body)
        verify = 200 <= resp.status < 300 and not skip_verify
        if verify and not self._verify_signature(resp.headers, resp.text):
            raise ProviderError("the provider's answer failed signature verification")
        return resp.status, resp.text


class WechatClient:
    """One WeChat Pay merchant (direct mode)."""

    provider = "wechat"

    def __init__(self, config: Mapping, *, transport: Transport, tolerance: int = 300):
        self.config = config
        self.mchid = str(config["mchid"])
        self.appid = str(config["appid"])
        self.apiv3_key = config["apiv3_key"]
        self.public_key_id = config.get("public_key_id") or None
        public_pem = pem(config.get("public_key"))
        self.public_key = load_public_key(public_pem) if public_pem else None
        self.platform_certs = [
            c for c in (load_certificate(pem(p)) for p in config.get("platform_certs") or []) if c
        ]
        self.tolerance = tolerance
        core = _Core(
            transport=transport,
            gateway=config.get("gateway") or GATEWAY,
            platform_certs=[pem(p) for p in config.get("platform_certs") or []],
            mchid=self.mchid,
            cert_serial_no=config["cert_serial_no"],
            private_key=pem(config["private_key"]),
            apiv3_key=self.apiv3_key,
            public_key=public_pem if self.public_key_id else None,
            public_key_id=self.public_key_id if public_pem else None,
        )
        # WeChatPay.__init__ would build the SDK's own Core (which downloads certificates);
        # set up the same object around ours.
        sdk = WeChatPay.__new__(WeChatPay)
        sdk._type = WeChatPayType.NATIVE
        sdk._mchid = self.mchid
        sdk._appid = self.appid
        sdk._notify_url = None
        sdk._core = core
        sdk._partner_mode = False
        self.sdk = sdk

    # --- paying ---------------------------------------------------------------------------
    def start(
        self,
        *,
        kind: str,
        out_trade_no: str,
        description: str,
        amount: Decimal,
        expires_at: datetime,
        notify_url: str,
        openid: str = "",
        client_ip: str = "",
        **_,
    ) -> PayStart:
        """Place the order: `native` answers a code_url to show as a QR code, `jsapi` a
        prepay_id and the signed parameters for WeixinJSBridge (the payer's openid needed)."""
        pay_type = {"native": WeChatPayType.NATIVE, "jsapi": WeChatPayType.JSAPI}[kind]
        code, text = self.sdk.pay(
            description=description[:127],
            out_trade_no=out_trade_no,
            amount={"total": to_fen(amount), "currency": "CNY"},
            payer={"openid": openid} if kind == "jsapi" else None,
            time_expire=expires_at.isoformat(timespec="seconds"),
            notify_url=notify_url,
            scene_info={"payer_client_ip": client_ip} if client_ip else None,
            pay_type=pay_type,
        )
        data = self._ok(code, text)
        if kind == "native":
            return PayStart(kind=kind, code_url=data["code_url"])
        prepay_id = data["prepay_id"]
        return PayStart(kind=kind, prepay_id=prepay_id, jsapi=self.jsapi_params(prepay_id))

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """What WeixinJSBridge.invoke("getBrandWCPayRequest", ...) takes, signed by the SDK."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self.sdk.sign([self.appid, timestamp, nonce, package]),
        }

    def micropay(
        self, *, out_trade_no: str, description: str, amount: Decimal, auth_code: str, store: str
    ) -> PayStart:
        """Charge the payer's payment code (付款碼) scanned at the window."""
        code, text = self.sdk.pay(
            description=description[:127],
            out_trade_no=out_trade_no,
            amount={"total": to_fen(amount), "currency": "CNY"},
            payer={"auth_code": auth_code},
            scene_info={"store_info": {"out_id": store}},
            pay_type=WeChatPayType.CODEPAY,
        )
        if code == 202 or (code >= 400 and '"USERPAYING"' in str(text)):
            return PayStart(kind="micropay")  # waiting for the payer's password: query later
        data = self._ok(code, text)
        return PayStart(kind="micropay", transaction=self._transaction(data, event_id=""))

    def query(self, *, out_trade_no: str) -> Transaction | None:
        code, text = self.sdk.query(out_trade_no=out_trade_no)
        if code == 404:
            return None
        return self._transaction(self._ok(code, text), event_id="")

    def close(self, *, out_trade_no: str) -> None:
        code, text = self.sdk.close(out_trade_no=out_trade_no)
        if code not in (200, 204):
            self._ok(code, text)

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> dict:
        code, text = self.sdk.refund(
            out_refund_no=out_refund_no,
            amount={"refund": to_fen(amount), "total": to_fen(total), "currency": "CNY"},
            out_trade_no=out_trade_no,
            reason=reason[:80],
        )
        return self._ok(code, text)

    @staticmethod
    def _ok(code: int, text) -> dict:
        try:
            data = json.loads(text) if text else {}
        except (TypeError, ValueError):
            data = {}
        if not 200 <= code < 300:
            raise ProviderError(
                f"WeChat Pay answered {code}: {data.get('message') or text}",
                code=str(data.get("code") or code),
            )
        return data

    # --- notifications --------------------------------------------------------------------
    def _key_for(self, serial: str):
        if self.public_key is not None and serial == self.public_key_id:
            return self.public_key
        try:
            wanted = int(serial, 16)
        except ValueError:
            return None
        for cert in self.platform_certs:
            if cert.serial_number == wanted:
                return cert.public_key()
        return None

    def knows_serial(self, serial: str) -> bool:
        return self._key_for(serial) is not None

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: float | None = None
    ) -> Transaction:
        """Verify and decrypt a payment notification, or raise NotifyRejected."""
        headers = CaseInsensitiveDict(headers)
        signature = headers.get("Wechatpay-Signature", "")
        timestamp = headers.get("Wechatpay-Timestamp", "")
        nonce = headers.get("Wechatpay-Nonce", "")
        serial = headers.get("Wechatpay-Serial", "")
        if not (signature and timestamp and nonce and serial):
            raise NotifyRejected("missing_headers", "a Wechatpay-* header is missing")
        sig_type = headers.get("Wechatpay-Signature-Type", SIGNATURE_TYPE)
        if sig_type != SIGNATURE_TYPE:
            raise NotifyRejected("bad_signature", f"unsupported signature type {sig_type}")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise NotifyRejected("malformed", "Wechatpay-Timestamp is not a number of seconds")
        sent = int(timestamp)
        now = time.time() if now is None else now
        if abs(now - sent) > self.tolerance:
            raise NotifyRejected("stale_timestamp", f"{int(now - sent)} s off our clock")
        key = self._key_for(serial)
        if key is None:
            raise NotifyRejected("unknown_key", f"no certificate or public key {serial}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotifyRejected("malformed", "the body is not UTF-8") from None
        if not rsa_verify(timestamp, nonce, text, signature, key):
            raise NotifyRejected("bad_signature", "the signature does not match the body")
        try:
            data = json.loads(text)
            event_id = str(data["id"])
            resource = data["resource"]
            if data.get("resource_type", "encrypt-resource") != "encrypt-resource":
                raise ValueError("resource_type")
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("algorithm")
            nonce_r, ciphertext = resource["nonce"], resource["ciphertext"]
            associated = resource.get("associated_data") or ""
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NotifyRejected("malformed", f"not a v3 notification ({exc})") from None
        try:
            plain = aes_decrypt(
                nonce=nonce_r,
                ciphertext=ciphertext,
                associated_data=associated,
                apiv3_key=self.apiv3_key,
            )
        except (ValueError, TypeError) as exc:
            raise NotifyRejected("decrypt_failed", str(exc), event_id=event_id) from None
        if plain is None:
            raise NotifyRejected(
                "decrypt_failed", "AES-GCM tag mismatch (APIv3 key?)", event_id=event_id
            )
        try:
            tx = json.loads(plain)
            return self._transaction(tx, event_id=event_id, event_type=data.get("event_type", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NotifyRejected("malformed", f"resource ({exc})", event_id=event_id) from None

    def _transaction(self, tx: dict, *, event_id: str, event_type: str = "") -> Transaction:
        amount = tx.get("amount") or {}
        total = amount.get("total")
        state = str(tx.get("trade_state", ""))
        return Transaction(
            provider="wechat",
            event_id=event_id,
            out_trade_no=str(tx["out_trade_no"]),
            transaction_id=str(tx.get("transaction_id") or ""),
            amount=from_fen(total) if isinstance(total, int) else None,
            currency=str(amount.get("currency", "")),
            state=state,
            paid=state in PAID_STATES and event_type in ("", "TRANSACTION.SUCCESS"),
            merchant_ids={"mchid": str(tx.get("mchid", "")), "appid": str(tx.get("appid", ""))},
            payer=str((tx.get("payer") or {}).get("openid", "")),
            raw=tx,
        )

    def expected_ids(self) -> dict[str, str]:
        return {"mchid": self.mchid, "appid": self.appid}

    # --- replies WeChat Pay expects -------------------------------------------------------
    @staticmethod
    def reply_ok() -> tuple[int, str, str]:
        return 200, "application/json", ""

    @staticmethod
    def reply_fail(message: str) -> tuple[int, str, str]:
        body = json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False)
        return 400, "application/json", body
