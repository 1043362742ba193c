"""The client of a merchant account: its configuration (settings, or the sandbox keyring) and
its transport (HTTP, or the sandbox gateway in-process). Clients are cached per process by
their configuration (key material included), since loading keys costs more than verifying a
signature; a changed configuration or a rotated key file is picked up within a second."""

import hashlib
import json
import os
import time
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
    """A client per distinct configuration (its key material included: the lru key is the
    resolved configuration, so a rotated key is another client)."""
    config = json.loads(config_json)
    if sandbox:
        from ..sandbox import SandboxTransport

        transport = SandboxTransport()
    else:
        transport = HttpTransport(timeout=timeout)
    return CLIENTS[provider](config, transport=transport, tolerance=tolerance)


_by_account: dict[tuple, object] = {}
_key_files: set[str] = set()
_stamp_cache: dict[str, object] = {"base": None, "at": 0.0, "value": None}
RECHECK_SECONDS = 1.0


def client_stamp() -> tuple:
    """What the cached clients depend on: the settings object, the WUYE_PAY_FILE and the key
    files it names, by modification time. The files are looked at (`stat`) at most once a
    second per process, so a changed configuration or a rotated key file is picked up
    within a second; changed settings (another WUYE_PAY) at once."""
    from django.conf import settings

    base = (id(getattr(settings, "WUYE_PAY", None)), os.environ.get("WUYE_PAY_FILE", ""))
    base += (settings.DEBUG,)
    now = time.monotonic()
    if base != _stamp_cache["base"] or now - _stamp_cache["at"] > RECHECK_SECONDS:
        from ..conf import generation

        files = tuple(sorted((name, _mtime(name)) for name in list(_key_files)))
        _stamp_cache.update(base=base, at=now, value=(generation(), files))
    return _stamp_cache["value"]


def _mtime(name: str) -> float:
    try:
        return os.stat(name).st_mtime
    except OSError:
        return 0.0


def client_for(account):
    """The (cached) client of a merchant account: parsing keys and certificates costs far
    more than verifying a signature, so a process builds each client once, keyed by the
    account (provider, code, mode) and `client_stamp()`."""
    key = (account.provider, account.code, account.mode, client_stamp())
    found = _by_account.get(key)
    if found is None:
        if len(_by_account) > 256:
            _by_account.clear()
        try:
            found = _client_for(account)
        except ProviderError:
            raise
        except (KeyError, ValueError, TypeError, OSError) as exc:
            # a key missing, a PEM that does not parse, a key file gone: this account is
            # unusable, the others (and every other estate's notifications) are not
            raise ProviderError(
                f"merchant account {account.code} is misconfigured: {exc!r}"[:300],
                code="not_configured",
            ) from exc
        _by_account[key] = found
    return found


def _resolved(config: dict) -> dict:
    """The configuration with every key or certificate given as a file path replaced by the
    file's content (the files remembered for `client_stamp`)."""
    from ..conf import pem

    resolved = dict(config)
    for name, value in config.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values) or not values:
            continue
        if any(v and "-----BEGIN" not in v and os.path.isfile(v) for v in values):
            for v in values:
                if v and "-----BEGIN" not in v and os.path.isfile(v):
                    _key_files.add(os.path.abspath(v))
            contents = [pem(v) if v and "-----BEGIN" not in v else v for v in values]
            resolved[name] = contents if isinstance(value, list) else contents[0]
    return resolved


def _client_for(account):
    config = _resolved(merchant_config(account))
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
