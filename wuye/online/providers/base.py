"""What every provider client returns, and how it talks to the provider."""

import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider refused a request, or could not be reached."""

    def __init__(self, message: str, *, code: str = "provider_error"):
        super().__init__(message)
        self.code = code


class NotifyRejected(Exception):
    """A notification that must not be acted on. `reason` is recorded in the inbox:
    missing_headers, bad_signature, stale_timestamp, unknown_key, malformed, decrypt_failed."""

    def __init__(self, reason: str, detail: str = "", *, event_id: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.event_id = event_id


@dataclass(frozen=True)
class Transaction:
    """A provider's word on one payment, from a verified notification or an active query.

    `amount` is in yuan (Decimal, 2 places) whatever unit the provider uses; `paid` is True
    only for the provider's paid states (WeChat SUCCESS; Alipay TRADE_SUCCESS/TRADE_FINISHED).
    `merchant_ids` are the identifiers to check against the merchant account:
    WeChat {"mchid", "appid"}, Alipay {"app_id", "seller_id"}."""

    provider: str
    event_id: str
    out_trade_no: str
    transaction_id: str
    amount: Decimal | None
    currency: str
    state: str
    paid: bool
    merchant_ids: dict[str, str] = field(default_factory=dict)
    payer: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """What the inbox keeps of it (`InboxNotification.transaction`)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["amount"] = None if self.amount is None else str(self.amount)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Transaction":
        amount = data.get("amount")
        return cls(**{**data, "amount": None if amount is None else Decimal(amount)})


@dataclass(frozen=True)
class PayStart:
    """How the payer goes on: scan `code_url` (Native QR / Alipay precreate), open `pay_url`
    (Alipay wap pay page), or call the WeChat JS bridge with `jsapi` parameters. A payment
    code (micropay) charge answers with `transaction` when it succeeded at once."""

    kind: str
    code_url: str = ""
    pay_url: str = ""
    jsapi: dict[str, str] = field(default_factory=dict)
    prepay_id: str = ""
    transaction: Transaction | None = None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Transport(Protocol):
    def request(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response: ...


class HttpTransport:
    """Real HTTP (requests, pinned by the WeChat SDK)."""

    def __init__(self, timeout: float = 10):
        self.timeout = timeout

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        import requests

        try:
            resp = requests.request(
                method, url, headers=headers, data=body or None, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ProviderError(f"could not reach the provider: {exc}", code="unreachable") from exc
        return Response(resp.status_code, dict(resp.headers), resp.text)
