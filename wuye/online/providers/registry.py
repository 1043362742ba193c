"""The client of a merchant account: its configuration (settings, or the sandbox keyring) and
its transport (HTTP, or the sandbox gateway in-process). Clients are cached per process by
their configuration, since loading keys costs more than verifying a signature."""

import hashlib
import json
from functools import lru_cache

from ..conf import pay_settings
from .alipay import AlipayClient
from .base import HttpTransport, ProviderError
from .wechat import WechatClient

CLIENTS = {"wechat": WechatClient, "alipay": AlipayClient}


def merchant_config(account) -> dict:
    """The credentials of a MerchantAccount (see README)."""
    if account.mode == "sandbox":
        from ..sandbox import keyring

        if not pay_settings()["sandbox"]:
            raise ProviderError("the sandbox is switched off", code="sandbox_off")
        return keyring().merchant_config(account.provider)
    config = pay_settings()["merchants"].get(account.code)
    if not config:
        raise ProviderError(
            f"merchant account {account.code} has no credentials in WUYE_PAY['merchants']",
            code="not_configured",
        )
    return dict(config)


@lru_cache(maxsize=64)
def _client(provider: str, config_json: str, sandbox: bool, tolerance: int, timeout: float):
    config = json.loads(config_json)
    if sandbox:
        from ..sandbox import SandboxTransport

        transport = SandboxTransport()
    else:
        transport = HttpTransport(timeout=timeout)
    return CLIENTS[provider](config, transport=transport, tolerance=tolerance)


_by_account: dict[tuple, object] = {}


def client_for(account):
    """The (cached) client of a merchant account."""
    from ..conf import generation

    key = (account.provider, account.code, account.mode, generation())
    found = _by_account.get(key)
    if found is None:
        if len(_by_account) > 256:
            _by_account.clear()
        found = _by_account[key] = _client_for(account)
    return found


def _client_for(account):
    config = merchant_config(account)
    conf = pay_settings()
    blob = json.dumps(config, sort_keys=True, default=str)
    return _client(
        account.provider,
        blob,
        account.mode == "sandbox",
        int(conf["timestamp_tolerance_seconds"]),
        float(conf["http_timeout"]),
    )


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
