"""The sandbox gateway: a local stand-in for WeChat Pay API v3 and the Alipay open gateway
that speaks their protocols with test keys, so the demo and the tests run the whole pay flow
offline.

- Requests from our SDK clients are verified as the providers do (WeChat: the merchant's
  `Authorization` signature; Alipay: the app's RSA2 signature) and answered signed (WeChat:
  `Wechatpay-*` headers with the WeChat Pay public key; Alipay: the `sign` over the response
  object), so the SDKs verify the answers exactly as they verify the real ones.
- The payer's side is a page (`/pay/sandbox/<provider>/pay/<token>`) with a confirm button;
  confirming marks the trade paid and delivers the notification: the same bytes and headers
  the provider would send, handed to the notify endpoint's handler.
- Developers replay, duplicate or forge notifications from `/pay/sandbox/` (or
  `deliver(...)`): a resend with a new timestamp and signature, the same bytes twice, a bad
  signature, a stale timestamp, a wrong amount, a probe.

The sandbox exists only while `WUYE_PAY["sandbox"]` is on (DEBUG by default)."""

import base64
import json
import secrets
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from requests.structures import CaseInsensitiveDict
from wechatpayv3.utils import load_private_key, load_public_key, rsa_sign

from . import keys
from .conf import absolute
from .models import Provider, SandboxKeyring, SandboxTrade
from .providers.base import Response
from .providers.wechat import from_fen, to_fen

SANDBOX_MCHID = "1900000109"
SANDBOX_APPID = "wxsandbox00000001"
SANDBOX_ALIPAY_APP = "2021000000000001"
SANDBOX_SELLER = "2088000000000001"
WECHAT_PATH = "/pay/sandbox/wechat"
ALIPAY_PATH = "/pay/sandbox/alipay/gateway.do"

_lock = threading.Lock()
_cached: "Keyring | None" = None


class Keyring:
    """The sandbox's key material, and both sides' configurations made from it."""

    def __init__(self, material: dict):
        self.material = material
        self.wechat = material["wechat"]
        self.alipay = material["alipay"]
        self._platform_key = load_private_key(self.wechat["_platform_private_key"])
        self._pubkey_key = load_private_key(self.wechat["_pubkey_private_key"])
        self._merchant_public = load_public_key(self.wechat["_merchant_public_key"])

    def merchant_config(self, provider: str) -> dict:
        """What a sandbox merchant account uses (as a live one's WUYE_PAY entry)."""
        if provider == Provider.WECHAT:
            return {k: v for k, v in self.wechat.items() if not k.startswith("_")} | {
                "gateway": absolute(WECHAT_PATH)
            }
        return {k: v for k, v in self.alipay.items() if not k.startswith("_")} | {
            "gateway": absolute(ALIPAY_PATH)
        }

    # WeChat Pay's side
    def wechat_sign(self, message: str, *, platform_cert: bool = False) -> tuple[str, str]:
        """(signature, serial) as WeChat Pay signs: with its public key (id PUB_KEY_ID_...)
        or, in the older mode, with its platform certificate's key."""
        if platform_cert:
            return rsa_sign(self._platform_key, message), self.wechat["_platform_serial"]
        return rsa_sign(self._pubkey_key, message), self.wechat["public_key_id"]

    def merchant_signature_ok(self, message: str, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature)
        except ValueError:
            return False
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
        from cryptography.hazmat.primitives.hashes import SHA256

        try:
            self._merchant_public.verify(raw, message.encode(), PKCS1v15(), SHA256())
        except InvalidSignature:
            return False
        return True

    # Alipay's side
    def alipay_sign(self, message: str) -> str:
        key = load_private_key(self.alipay["_alipay_private_key"])
        return rsa_sign(key, message)

    def app_signature_ok(self, message: str, signature: str) -> bool:
        key = load_public_key(self.alipay["_app_public_key"])
        return rsa_verify_plain(message, signature, key)


def rsa_verify_plain(message: str, signature: str, public_key) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    try:
        public_key.verify(base64.b64decode(signature), message.encode(), PKCS1v15(), SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def keyring() -> Keyring:
    """The sandbox keyring, made once per database (the first process to need it wins) and
    kept for the life of the process: signing and verifying in one process always agree."""
    global _cached
    if _cached is not None:
        return _cached
    with _lock:
        row = SandboxKeyring.objects.filter(name="default").first()
        if row is None:
            material = {
                "wechat": keys.wechat_merchant(mchid=SANDBOX_MCHID, appid=SANDBOX_APPID),
                "alipay": keys.alipay_merchant(app_id=SANDBOX_ALIPAY_APP, seller_id=SANDBOX_SELLER),
            }
            try:
                with transaction.atomic():
                    row = SandboxKeyring.objects.create(name="default", material=material)
            except IntegrityError:
                row = SandboxKeyring.objects.get(name="default")
        _cached = Keyring(row.material)
        return _cached


# --- the transport our SDK clients use in sandbox mode ---------------------------------------


class SandboxTransport:
    """Hands a request to the sandbox in-process (no socket), bytes and headers as sent."""

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(url)
        if parts.path.startswith(WECHAT_PATH + "/"):
            path = parts.path.removeprefix(WECHAT_PATH) + (f"?{parts.query}" if parts.query else "")
            return wechat_api(method, path, headers, body)
        if parts.path == ALIPAY_PATH:
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            status, _, text = alipay_api(params)
            return Response(status, {}, text)
        return Response(404, {}, "")


# --- WeChat Pay API v3 -----------------------------------------------------------------------


def _wechat_reply(status: int, data: dict | None) -> Response:
    text = json.dumps(data, ensure_ascii=False) if data is not None else ""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    signature, serial = keyring().wechat_sign(f"{timestamp}\n{nonce}\n{text}\n")
    headers = CaseInsensitiveDict(
        {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Request-ID": secrets.token_hex(8),
        }
    )
    return Response(status, headers, text)


def _authorization_ok(method: str, path: str, headers, body: bytes) -> bool:
    auth = CaseInsensitiveDict(headers).get("Authorization", "")
    scheme, _, rest = auth.partition(" ")
    if scheme != "WECHATPAY2-SHA256-RSA2048":
        return False
    fields = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value.strip('"')
    if fields.get("mchid") != SANDBOX_MCHID:
        return False
    message = (
        f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n"
        f"{body.decode('utf-8')}\n"
    )
    return keyring().merchant_signature_ok(message, fields.get("signature", ""))


def _wechat_transaction(trade: SandboxTrade) -> dict:
    data = {
        "appid": SANDBOX_APPID,
        "mchid": SANDBOX_MCHID,
        "out_trade_no": trade.out_trade_no,
        "trade_state": trade.state,
        "trade_state_desc": trade.state,
        "amount": {"total": to_fen(trade.amount), "currency": "CNY"},
    }
    if trade.state in ("SUCCESS", "REFUND"):
        data |= {
            "transaction_id": trade.transaction_id,
            "trade_type": "NATIVE",
            "bank_type": "OTHERS",
            "success_time": timezone.localtime(trade.paid_at).isoformat(timespec="seconds"),
            "payer": {"openid": "oSandboxPayer0000000000000000"},
            "amount": {
                "total": to_fen(trade.amount),
                "payer_total": to_fen(trade.amount),
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
    return data


def _new_transaction_id(provider: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d")
    if provider == Provider.WECHAT:
        return f"4200{secrets.randbelow(10**6):06d}{stamp}{secrets.randbelow(10**10):010d}"
    return f"{stamp}22001{secrets.randbelow(10**15):015d}"


def _create_trade(provider: str, merchant_id: str, data: dict, amount: Decimal) -> SandboxTrade:
    try:
        with transaction.atomic():
            return SandboxTrade.objects.create(
                provider=provider,
                merchant_id=merchant_id,
                out_trade_no=data["out_trade_no"],
                amount=amount,
                description=str(data.get("description") or data.get("subject") or "")[:256],
                notify_url=str(data.get("notify_url") or "")[:500],
                return_url=str(data.get("return_url") or "")[:500],
            )
    except IntegrityError:
        return SandboxTrade.objects.get(
            provider=provider, merchant_id=merchant_id, out_trade_no=data["out_trade_no"]
        )


def wechat_api(method: str, path: str, headers, body: bytes) -> Response:
    """One call of WeChat Pay API v3, as the sandbox answers it."""
    if not _authorization_ok(method, path, headers, body):
        return _wechat_reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
    route = path.split("?", 1)[0]
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return _wechat_reply(400, {"code": "PARAM_ERROR", "message": "bad JSON"})
    if method == "POST" and route in (
        "/v3/pay/transactions/native",
        "/v3/pay/transactions/jsapi",
        "/v3/pay/transactions/codepay",
    ):
        if data.get("mchid") != SANDBOX_MCHID or data.get("appid") != SANDBOX_APPID:
            return _wechat_reply(400, {"code": "PARAM_ERROR", "message": "mchid/appid"})
        amount = from_fen(data["amount"]["total"])
        trade = _create_trade(Provider.WECHAT, SANDBOX_MCHID, data, amount)
        if trade.amount != amount:
            return _wechat_reply(400, {"code": "INVALID_REQUEST", "message": "订单号重复"})
        if route.endswith("/native"):
            return _wechat_reply(200, {"code_url": absolute(f"/pay/sandbox/pay/{trade.token}")})
        if route.endswith("/jsapi"):
            return _wechat_reply(200, {"prepay_id": f"wx{trade.token}"})
        auth_code = str((data.get("payer") or {}).get("auth_code", ""))
        if not (len(auth_code) == 18 and auth_code[:2] in {"10", "11", "12", "13", "14", "15"}):
            return _wechat_reply(400, {"code": "PARAM_ERROR", "message": "付款码无效"})
        if auth_code.endswith("0000"):
            return _wechat_reply(202, {"code": "USERPAYING", "message": "需要用户输入支付密码"})
        trade = mark_paid(trade)
        return _wechat_reply(200, _wechat_transaction(trade))
    if route.startswith("/v3/pay/transactions/out-trade-no/"):
        number = route.removeprefix("/v3/pay/transactions/out-trade-no/")
        closing = number.endswith("/close")
        number = number.removesuffix("/close")
        trade = SandboxTrade.objects.filter(
            provider=Provider.WECHAT, merchant_id=SANDBOX_MCHID, out_trade_no=number
        ).first()
        if trade is None:
            return _wechat_reply(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if closing and method == "POST":
            if trade.state == "NOTPAY":
                SandboxTrade.objects.filter(pk=trade.pk).update(state="CLOSED")
            elif trade.state == "SUCCESS":
                return _wechat_reply(400, {"code": "ORDERPAID", "message": "订单已支付"})
            return _wechat_reply(204, None)
        return _wechat_reply(200, _wechat_transaction(trade))
    if method == "POST" and route == "/v3/refund/domestic/refunds":
        trade = SandboxTrade.objects.filter(
            provider=Provider.WECHAT, out_trade_no=data.get("out_trade_no", "")
        ).first()
        if trade is None or trade.state not in ("SUCCESS", "REFUND"):
            return _wechat_reply(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        refund = from_fen(data["amount"]["refund"])
        SandboxTrade.objects.filter(pk=trade.pk).update(
            state="REFUND", refunded=trade.refunded + refund
        )
        return _wechat_reply(
            200,
            {
                "refund_id": f"50{secrets.randbelow(10**20):020d}",
                "out_refund_no": data.get("out_refund_no"),
                "status": "SUCCESS",
                "amount": data["amount"],
            },
        )
    return _wechat_reply(404, {"code": "NOT_FOUND", "message": route})


# --- the Alipay open gateway -----------------------------------------------------------------


def _alipay_reply(response_type: str, data: dict) -> tuple[int, str, str]:
    inner = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    sign = keyring().alipay_sign(inner)
    return 200, "application/json", f'{{"{response_type}":{inner},"sign":"{sign}"}}'


def alipay_signed_ok(params: dict) -> bool:
    signature = params.get("sign", "")
    unsigned = sorted((k, v) for k, v in params.items() if k != "sign")
    message = "&".join(f"{k}={v}" for k, v in unsigned)
    return bool(signature) and keyring().app_signature_ok(message, signature)


def _alipay_trade(trade: SandboxTrade) -> dict:
    status = {
        "NOTPAY": "WAIT_BUYER_PAY",
        "SUCCESS": "TRADE_SUCCESS",
        "CLOSED": "TRADE_CLOSED",
        "REFUND": "TRADE_SUCCESS",
    }[trade.state]
    data = {
        "code": "10000",
        "msg": "Success",
        "out_trade_no": trade.out_trade_no,
        "trade_status": status,
        "total_amount": str(trade.amount),
    }
    if trade.transaction_id:
        data |= {"trade_no": trade.transaction_id, "buyer_logon_id": "san***@sandbox.com"}
    return data


def alipay_api(params: dict) -> tuple[int, str, str]:
    """A server-to-server call of the Alipay gateway (query, close, precreate, pay, refund)."""
    method = params.get("method", "")
    response_type = method.replace(".", "_") + "_response"
    if params.get("app_id") != SANDBOX_ALIPAY_APP or not alipay_signed_ok(params):
        return _alipay_reply(
            response_type,
            {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"},
        )
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        biz = {}
    number = biz.get("out_trade_no", "")
    trade = SandboxTrade.objects.filter(
        provider=Provider.ALIPAY, merchant_id=SANDBOX_ALIPAY_APP, out_trade_no=number
    ).first()
    not_exist = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_NOT_EXIST",
        "sub_msg": "交易不存在",
    }
    if method in ("alipay.trade.precreate", "alipay.trade.pay"):
        trade = _create_trade(
            Provider.ALIPAY,
            SANDBOX_ALIPAY_APP,
            biz | {"notify_url": params.get("notify_url", "")},
            Decimal(biz["total_amount"]),
        )
        if method == "alipay.trade.precreate":
            return _alipay_reply(
                response_type,
                {
                    "code": "10000",
                    "msg": "Success",
                    "out_trade_no": number,
                    "qr_code": absolute(f"/pay/sandbox/pay/{trade.token}"),
                },
            )
        auth_code = str(biz.get("auth_code", ""))
        if not (len(auth_code) in (16, 17, 18) and auth_code[:2] in {"25", "26", "27", "28"}):
            return _alipay_reply(
                response_type,
                {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.PAYMENT_AUTH_CODE_INVALID",
                },
            )
        if auth_code.endswith("0000"):
            return _alipay_reply(
                response_type, {"code": "10003", "msg": "order success pay inprocess"}
            )
        trade = mark_paid(trade)
        return _alipay_reply(response_type, _alipay_trade(trade))
    if trade is None:
        return _alipay_reply(response_type, not_exist)
    if method == "alipay.trade.query":
        return _alipay_reply(response_type, _alipay_trade(trade))
    if method == "alipay.trade.close":
        if trade.state == "NOTPAY":
            SandboxTrade.objects.filter(pk=trade.pk).update(state="CLOSED")
        elif trade.state != "CLOSED":
            return _alipay_reply(
                response_type,
                {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"},
            )
        return _alipay_reply(
            response_type, {"code": "10000", "msg": "Success", "out_trade_no": number}
        )
    if method == "alipay.trade.refund":
        refund = Decimal(biz.get("refund_amount", "0"))
        SandboxTrade.objects.filter(pk=trade.pk).update(
            state="REFUND", refunded=trade.refunded + refund
        )
        return _alipay_reply(
            response_type,
            {"code": "10000", "msg": "Success", "out_trade_no": number, "refund_fee": str(refund)},
        )
    return _alipay_reply(
        response_type, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.UNSUPPORTED"}
    )


def alipay_wap_trade(params: dict) -> SandboxTrade | None:
    """The browser opened the gateway with a signed alipay.trade.wap.pay: the trade."""
    if params.get("method") != "alipay.trade.wap.pay" or not alipay_signed_ok(params):
        return None
    biz = json.loads(params.get("biz_content") or "{}")
    return _create_trade(
        Provider.ALIPAY,
        SANDBOX_ALIPAY_APP,
        biz
        | {"notify_url": params.get("notify_url", ""), "return_url": params.get("return_url", "")},
        Decimal(biz["total_amount"]),
    )


# --- paying and notifying --------------------------------------------------------------------


def mark_paid(trade: SandboxTrade) -> SandboxTrade:
    """The payer confirmed: the trade is paid (once)."""
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().get(pk=trade.pk)
        if trade.state == "NOTPAY":
            trade.state = "SUCCESS"
            trade.transaction_id = _new_transaction_id(trade.provider)
            trade.paid_at = timezone.now()
            trade.event_id = (
                f"EV-{secrets.token_hex(10).upper()}"
                if trade.provider == Provider.WECHAT
                else secrets.token_hex(16)
            )
            trade.save(update_fields=["state", "transaction_id", "paid_at", "event_id"])
    return trade


def wechat_notification(
    trade: SandboxTrade,
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
    amount_fen: int | None = None,
    platform_cert: bool = False,
    forge: bool = False,
    material: dict | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of WeChat Pay's TRANSACTION.SUCCESS notification of a trade."""
    tx = _wechat_transaction(trade)
    if amount_fen is not None:
        tx["amount"]["total"] = tx["amount"]["payer_total"] = amount_fen
    return build_wechat_notification(
        keyring().wechat if material is None else material,
        tx,
        event_id=event_id or trade.event_id or f"EV-{secrets.token_hex(10).upper()}",
        timestamp=timestamp,
        platform_cert=platform_cert,
        forge=forge,
    )


def build_wechat_notification(
    material: dict,
    tx: dict,
    *,
    event_id: str,
    timestamp: int | None = None,
    platform_cert: bool = False,
    forge: bool = False,
) -> tuple[dict[str, str], bytes]:
    """Encrypt `tx` with the APIv3 key (AEAD_AES_256_GCM) into a v3 notification and sign it
    as WeChat Pay does (`keys.wechat_notification`), created now in the business time zone.
    `material` is a configuration from `keys.wechat_merchant()` (with the platform's private
    keys)."""
    return keys.wechat_notification(
        material,
        tx,
        event_id=event_id,
        timestamp=timestamp,
        platform_cert=platform_cert,
        forge=forge,
        create_time=timezone.localtime().isoformat(timespec="seconds"),
    )


def alipay_notification(
    trade: SandboxTrade,
    *,
    event_id: str | None = None,
    amount: Decimal | None = None,
    forge: bool = False,
    status: str = "TRADE_SUCCESS",
    material: dict | None = None,
) -> tuple[dict[str, str], bytes]:
    params = {
        "notify_time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "notify_type": "trade_status_sync",
        "notify_id": event_id or trade.event_id or secrets.token_hex(16),
        "app_id": SANDBOX_ALIPAY_APP,
        "seller_id": SANDBOX_SELLER,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "trade_status": status,
        "total_amount": str(trade.amount if amount is None else amount),
        "receipt_amount": str(trade.amount),
        "subject": trade.description,
        "gmt_payment": timezone.localtime(trade.paid_at or timezone.now()).strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
    }
    return build_alipay_notification(
        keyring().alipay if material is None else material, params, forge=forge
    )


def build_alipay_notification(
    material: dict, params: dict, *, forge: bool = False
) -> tuple[dict[str, str], bytes]:
    """Sign `params` as Alipay signs an asynchronous notification (RSA2 over the sorted
    parameters without sign and sign_type), with the Alipay SDK's own signer holding
    Alipay's key, and form-encode them."""
    from urllib.parse import urlencode

    from alipay import AliPay

    signer = AliPay(
        appid=params.get("app_id", ""),
        app_private_key_string=material["_alipay_private_key"],
        alipay_public_key_string=material["alipay_public_key"],
        sign_type="RSA2",
    )
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    sign = signer._sign(unsigned)
    if forge:
        sign = sign[:-8] + "AAAAAAA="
    body = urlencode({**params, "sign_type": "RSA2", "sign": sign}).encode()
    return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body


def deliver(trade: SandboxTrade, *, how: str = "normal") -> list[tuple[int, str]]:
    """Send the trade's notification to our notify handler, as the provider would.

    how: normal | resend (same event, new timestamp and signature) | duplicate (the same bytes
    twice) | forged (bad signature) | stale (timestamp 10 minutes old) | wrong_amount (validly
    signed, one yuan less) | platform_cert (signed in the certificate mode)."""
    from .services.notify import notification_receive

    if trade.provider == Provider.WECHAT:
        kwargs: dict = {}
        if how == "forged":
            kwargs["forge"] = True
        elif how == "stale":
            kwargs["timestamp"] = int(time.time()) - 600
        elif how == "wrong_amount":
            kwargs["amount_fen"] = to_fen(trade.amount) - 100
        elif how == "platform_cert":
            kwargs["platform_cert"] = True
        headers, body = wechat_notification(trade, **kwargs)
    else:
        kwargs = {}
        if how == "forged":
            kwargs["forge"] = True
        elif how == "wrong_amount":
            kwargs["amount"] = trade.amount - 1
        headers, body = alipay_notification(trade, **kwargs)
    copies = 2 if how == "duplicate" else 1
    results = []
    for _ in range(copies):
        status, _, text = notification_receive(
            provider=trade.provider, headers=headers, body=body, remote_addr="sandbox"
        )
        results.append((status, text))
    return results
