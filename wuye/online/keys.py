"""Test key material: RSA 2048 key pairs and a self-signed WeChat Pay platform certificate,
made with `cryptography`. The sandbox keeps one set in the database; tests make their own.

Also the other side of a WeChat Pay notification (`wechat_notification`): what the platform
sends, encrypted with the APIv3 key and signed with the platform's private key, for tests,
the sandbox and the W2 benchmark. Parsed private keys are cached per process
(`private_key`): `load_pem_private_key` checks the RSA key, which costs tens of
milliseconds, far more than the signature itself."""

import base64
import datetime
import json
import secrets
import string
import time
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from wechatpayv3.utils import rsa_sign


def rsa_pair() -> tuple[str, str]:
    """(private key PEM in PKCS#8, public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def platform_certificate(private_pem: str, *, name: str = "Tenpay.com Root CA") -> tuple[str, str]:
    """A self-signed certificate for the key: (certificate PEM, serial number in upper hex, as
    WeChat Pay sends it in Wechatpay-Serial)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), format(serial, "X")


def apiv3_key() -> str:
    """A 32-character APIv3 key (AES-256)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def wechat_merchant(*, mchid: str = "1900000109", appid: str = "wx8888888888888888") -> dict:
    """A complete WeChat Pay merchant configuration with fresh keys, plus the platform's
    private keys (`_platform_private_key`, `_pubkey_private_key`) a test or the sandbox signs
    notifications with. Both verification modes are present: the platform certificate and the
    WeChat Pay public key with its id."""
    merchant_private, merchant_public = rsa_pair()
    merchant_cert, merchant_serial = platform_certificate(merchant_private, name=mchid)
    platform_private, _ = rsa_pair()
    platform_cert, platform_serial = platform_certificate(platform_private)
    pubkey_private, pubkey_public = rsa_pair()
    return {
        "provider": "wechat",
        "mchid": mchid,
        "appid": appid,
        "apiv3_key": apiv3_key(),
        "private_key": merchant_private,
        "cert_serial_no": merchant_serial,
        "public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "public_key": pubkey_public,
        "platform_certs": [platform_cert],
        "_merchant_public_key": merchant_public,
        "_platform_private_key": platform_private,
        "_platform_serial": platform_serial,
        "_pubkey_private_key": pubkey_private,
    }


def alipay_merchant(
    *, app_id: str = "2021000000000001", seller_id: str = "2088000000000001"
) -> dict:
    """An Alipay merchant configuration with fresh keys, plus Alipay's own private key
    (`_alipay_private_key`) and the app's public key (`_app_public_key`) for the other side."""
    app_private, app_public = rsa_pair()
    alipay_private, alipay_public = rsa_pair()
    return {
        "provider": "alipay",
        "app_id": app_id,
        "seller_id": seller_id,
        "app_private_key": app_private,
        "alipay_public_key": alipay_public,
        "_app_public_key": app_public,
        "_alipay_private_key": alipay_private,
    }


BEIJING = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")


@lru_cache(maxsize=64)
def private_key(pem: str):
    """The parsed private key of a PEM, once per process (keyed by the PEM itself, so another
    key is another entry)."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def wechat_sign(private_pem: str, message: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64, as WeChat Pay signs: the SDK's own `rsa_sign`
    (the signing the SDK uses for merchant requests), with the key parsed once."""
    return rsa_sign(private_key(private_pem), message)


def wechat_notification(
    material: dict,
    tx: dict,
    *,
    event_id: str,
    timestamp: int | None = None,
    platform_cert: bool = False,
    forge: bool = False,
    create_time: str = "",
) -> tuple[dict[str, str], bytes]:
    """A WeChat Pay v3 payment notification as the platform sends it: `tx` encrypted with the
    APIv3 key (AEAD_AES_256_GCM) into the envelope, `timestamp\\nnonce\\nbody\\n` signed with
    the WeChat Pay public key's private half (or, with `platform_cert`, the platform
    certificate's). `material` is a configuration from `wechat_merchant()`; `forge` spoils the
    signature as WeChat's own probes do. Returns (headers, body bytes)."""
    nonce_r = secrets.token_hex(6)
    associated = "transaction"
    cipher = AESGCM(material["apiv3_key"].encode()).encrypt(
        nonce_r.encode(), json.dumps(tx, ensure_ascii=False).encode(), associated.encode()
    )
    envelope = {
        "id": event_id,
        "create_time": create_time or datetime.datetime.now(BEIJING).isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(cipher).decode(),
            "associated_data": associated,
            "nonce": nonce_r,
        },
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = secrets.token_hex(16)
    if platform_cert:
        key, serial = material["_platform_private_key"], material["_platform_serial"]
    else:
        key, serial = material["_pubkey_private_key"], material["public_key_id"]
    signature = wechat_sign(key, f"{timestamp}\n{nonce}\n{body}\n")
    if forge:
        signature = "WECHATPAY/SIGNTEST/" + signature[19:]
    headers = {
        "Content-Type": "application/json",
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body.encode()
