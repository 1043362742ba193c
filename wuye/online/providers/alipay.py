"""Alipay through `python-alipay-sdk` (pinned 3.4.0), RSA2.

Requests are signed by the SDK (`sign_data`), synchronous answers verified by the SDK
(`_verify_and_return_sync_response`); asynchronous notifications are verified with the SDK's
`verify`: RSA2 (SHA256withRSA) with Alipay's public key over the parameters except `sign` and
`sign_type`, sorted and joined as `k=v&...`. Only TRADE_SUCCESS and TRADE_FINISHED are paid;
amounts are in yuan; the reply is exactly `success` (anything else and Alipay resends for a
day)."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from ..conf import pem
from .base import NotifyRejected, PayStart, ProviderError, Transaction, Transport

GATEWAY = "https://openapi.alipay.com/gateway.do"
PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


class _AliPay(AliPay):
    """The SDK's client with a pluggable transport for its gateway calls."""

    def __init__(self, *, transport: Transport, gateway: str, **kwargs):
        super().__init__(**kwargs)
        self._gateway = gateway
        self._transport = transport

    def verified_sync_response(self, data, response_type):
        url = self._gateway + "?" + self.sign_data(data)
        resp = self._transport.request("GET", url, {}, b"")
        try:
            return self._verify_and_return_sync_response(resp.text, response_type)
        except AliPayValidationError as exc:
            raise ProviderError("Alipay's answer failed signature verification") from exc
        except AliPayException as exc:
            raise ProviderError(f"Alipay refused: {exc.message}", code=str(exc.code)) from exc
        except (ValueError, AttributeError) as exc:
            raise ProviderError(f"Alipay answered something unreadable: {exc}") from exc


# the charsets Alipay sends notifications in (its `charset` parameter)
CHARSETS = ("utf-8", "utf8", "gbk", "gb2312", "gb18030")


def _yuan(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


class AlipayClient:
    """One Alipay application (app_id) collecting for one seller (seller_id, the 2088... PID)."""

    provider = "alipay"

    def __init__(self, config: Mapping, *, transport: Transport, tolerance: int = 300):
        self.config = config
        self.app_id = str(config["app_id"])
        self.seller_id = str(config.get("seller_id") or "")
        if not self.seller_id:
            # every notification's seller_id is checked: without it money paid to another
            # seller under the same app would be believed
            raise ProviderError(
                f"Alipay app {self.app_id} has no seller_id (the 2088... PID) configured",
                code="not_configured",
            )
        self.gateway = config.get("gateway") or GATEWAY
        self.sdk = _AliPay(
            transport=transport,
            gateway=self.gateway,
            appid=self.app_id,
            app_private_key_string=pem(config["app_private_key"]),
            alipay_public_key_string=pem(config["alipay_public_key"]),
            sign_type="RSA2",
        )

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
        return_url: str = "",
        **_,
    ) -> PayStart:
        """`wap`: a signed gateway URL the payer's browser opens (mobile cashier);
        `native`: precreate, a QR code the payer scans with the Alipay app."""
        extra = {"time_expire": expires_at.strftime("%Y-%m-%d %H:%M:%S")}
        if kind == "wap":
            query = self.sdk.api_alipay_trade_wap_pay(
                subject=description[:256],
                out_trade_no=out_trade_no,
                total_amount=str(amount),
                return_url=return_url or None,
                notify_url=notify_url,
                **extra,
            )
            return PayStart(kind=kind, pay_url=f"{self.gateway}?{query}")
        data = self.sdk.api_alipay_trade_precreate(
            subject=description[:256],
            out_trade_no=out_trade_no,
            total_amount=str(amount),
            notify_url=notify_url,
            **extra,
        )
        self._ok(data)
        return PayStart(kind="native", code_url=data["qr_code"])

    def micropay(
        self, *, out_trade_no: str, description: str, amount: Decimal, auth_code: str, store: str
    ) -> PayStart:
        data = self.sdk.api_alipay_trade_pay(
            out_trade_no=out_trade_no,
            scene="bar_code",
            auth_code=auth_code,
            subject=description[:256],
            total_amount=str(amount),
            store_id=store,
        )
        if str(data.get("code")) == "10003":  # waiting for the payer to confirm
            return PayStart(kind="micropay")
        self._ok(data)
        return PayStart(kind="micropay", transaction=self._transaction(data, event_id=""))

    def query(self, *, out_trade_no: str) -> Transaction | None:
        data = self.sdk.api_alipay_trade_query(out_trade_no=out_trade_no)
        if data.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return None
        self._ok(data)
        return self._transaction(data, event_id="")

    def close(self, *, out_trade_no: str) -> None:
        data = self.sdk.api_alipay_trade_close(out_trade_no=out_trade_no)
        if data.get("sub_code") not in (None, "ACQ.TRADE_NOT_EXIST"):
            self._ok(data)

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> dict:
        data = self.sdk.api_alipay_trade_refund(
            refund_amount=str(amount),
            out_trade_no=out_trade_no,
            out_request_no=out_refund_no,
            refund_reason=reason[:80],
        )
        return self._ok(data)

    @staticmethod
    def _ok(data: dict) -> dict:
        if str(data.get("code")) != "10000":
            raise ProviderError(
                f"Alipay refused: {data.get('sub_msg') or data.get('msg')}",
                code=str(data.get("sub_code") or data.get("code")),
            )
        return data

    # --- notifications --------------------------------------------------------------------
    @staticmethod
    def parse(body: bytes) -> dict[str, str]:
        """The form-encoded parameters, decoded in the charset the notification names."""
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise NotifyRejected("malformed", "the body is not form-encoded") from None
        try:
            params = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
            charset = (params.get("charset") or "utf-8").lower()
            if charset not in CHARSETS:
                raise NotifyRejected("malformed", f"charset {charset[:20]!r} is not Alipay's")
            if charset not in ("utf-8", "utf8"):
                params = dict(parse_qsl(text, keep_blank_values=True, encoding=charset))
        except (UnicodeError, ValueError):
            raise NotifyRejected("malformed", "the parameters do not decode") from None
        return params

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: float | None = None
    ) -> Transaction:
        params = self.parse(body)
        signature = params.pop("sign", "")
        sign_type = params.get("sign_type", "")
        if not signature or not params:
            raise NotifyRejected("malformed", "no sign parameter")
        if sign_type != "RSA2":
            raise NotifyRejected("bad_signature", f"sign_type {sign_type or 'missing'}")
        try:
            good = self.sdk.verify(dict(params), signature)
        except (ValueError, TypeError, AliPayException):
            good = False
        if not good:
            raise NotifyRejected("bad_signature", "RSA2 signature does not match")
        params.pop("sign_type", None)
        event_id = params.get("notify_id", "")
        if not event_id or not params.get("out_trade_no"):
            raise NotifyRejected("malformed", "notify_id or out_trade_no missing")
        return self._transaction(params, event_id=event_id)

    def _transaction(self, data: Mapping, *, event_id: str) -> Transaction:
        state = str(data.get("trade_status", ""))
        return Transaction(
            provider="alipay",
            event_id=event_id,
            out_trade_no=str(data.get("out_trade_no", "")),
            transaction_id=str(data.get("trade_no", "")),
            amount=_yuan(data.get("total_amount")),
            currency="CNY",
            state=state,
            paid=state in PAID_STATES,
            merchant_ids={
                "app_id": str(data.get("app_id", "")),
                "seller_id": str(data.get("seller_id", "")),
            },
            payer=str(data.get("buyer_id", "") or data.get("buyer_logon_id", "")),
            raw=dict(data),
        )

    def expected_ids(self) -> dict[str, str]:
        return {"app_id": self.app_id, "seller_id": self.seller_id}

    @staticmethod
    def reply_ok() -> tuple[int, str, str]:
        return 200, "text/plain", "success"

    @staticmethod
    def reply_fail(message: str) -> tuple[int, str, str]:
        return 400, "text/plain", "fail"
