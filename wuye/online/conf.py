"""Online payment settings: `settings.WUYE_PAY` over these defaults, plus a JSON file named by
the environment variable `WUYE_PAY_FILE` (merchant keys stay out of the settings module).

A merchant account (`MerchantAccount`, one per estate and provider, chosen per fee item) in
mode `live` takes its credentials from `merchants[<account code>]`; in mode `sandbox` from the
sandbox keyring (test keys kept in the database), and then only while `sandbox` is on.
See `wuye/online/README.md` for a real merchant's configuration."""

import copy
import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The sandbox gateway (/pay/sandbox/...) and sandbox merchant accounts. Off in production.
    "sandbox": None,  # None: follow DEBUG (or WUYE_PAY_SANDBOX=true/false)
    # How long an owner has to pay an order; then it is closed at the provider and expired.
    "order_minutes": 15,
    # Orders without a notification are queried at the provider after this many seconds.
    "query_after_seconds": 60,
    # WeChat Pay: notifications whose Wechatpay-Timestamp is further off are refused.
    "timestamp_tolerance_seconds": 300,
    # Absolute base of this site for provider callbacks, e.g. https://wuye.example.com
    "public_url": "",
    "http_timeout": 10,
    # Rejected notifications (forged, probes, stale, malformed) are kept this many days.
    "rejected_days": 180,
    # code of a MerchantAccount -> credentials (see README)
    "merchants": {},
}


_file_cache: dict[tuple[str, float], dict[str, Any]] = {}


def _from_file() -> dict[str, Any]:
    """The JSON file named by WUYE_PAY_FILE, read again only when it changes."""
    name = os.environ.get("WUYE_PAY_FILE", "")
    if not name:
        return {}
    key = (name, Path(name).stat().st_mtime)
    if key not in _file_cache:
        _file_cache.clear()
        _file_cache[key] = json.loads(Path(name).read_text(encoding="utf-8"))
    return _file_cache[key]


def generation() -> tuple:
    """Changes whenever the settings or the file may have: what caches of clients key on."""
    name = os.environ.get("WUYE_PAY_FILE", "")
    mtime = Path(name).stat().st_mtime if name else 0
    return (id(getattr(settings, "WUYE_PAY", None)), name, mtime, settings.DEBUG)


def pay_settings() -> dict[str, Any]:
    merged = copy.deepcopy(DEFAULTS)
    for layer in (_from_file(), getattr(settings, "WUYE_PAY", {}) or {}):
        for key, value in layer.items():
            if key == "merchants":
                merged["merchants"].update(value)
            else:
                merged[key] = value
    if merged["sandbox"] is None:
        env = os.environ.get("WUYE_PAY_SANDBOX", "")
        merged["sandbox"] = (
            env.lower() in {"1", "true", "yes", "on"} if env else bool(settings.DEBUG)
        )
    return merged


def sandbox_enabled() -> bool:
    return bool(pay_settings()["sandbox"])


def pem(value: str | None) -> str | None:
    """A PEM given inline, or the path of a file holding it."""
    if not value:
        return None
    if "-----BEGIN" in value:
        return value
    path = Path(value)
    if path.exists():
        return path.read_text(encoding="utf-8")
    raise ValueError("a key or certificate is neither a PEM nor a readable file")


def absolute(path: str) -> str:
    base = (pay_settings()["public_url"] or "").rstrip("/")
    return f"{base}{path}"
