"""The adapter interface, HTTP helpers and the lookup from channel to configured backend."""

import json
import urllib.error
import urllib.request
from typing import Any

from ..conf import notify_settings


class ChannelError(Exception):
    """Sending failed. `retryable` says whether trying again later may work."""

    retryable = False

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


class RetryableError(ChannelError):
    retryable = True


class PermanentError(ChannelError):
    retryable = False


class Backend:
    """A provider adapter. `name` is recorded as the message's provider."""

    name = "base"
    channels: tuple[str, ...] = ()
    # True when accepting a message means it reached the owner (demo): no receipt will come.
    confirms_delivery = False

    def __init__(self, config: dict[str, Any], *, timeout: float = 10):
        self.config = config
        self.timeout = timeout

    def send(self, message) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def http_json(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> dict[str, Any]:
    """One HTTP request that answers JSON. Network trouble and 5xx/429 are retryable, other
    4xx permanent; a body that is not JSON is retryable (a proxy's error page)."""
    if not url.startswith(("https://", "http://")):
        raise PermanentError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # scheme checked above  # nosec B310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        if exc.code >= 500 or exc.code == 429:
            raise RetryableError(f"HTTP {exc.code}: {detail}", code=str(exc.code)) from exc
        raise PermanentError(f"HTTP {exc.code}: {detail}", code=str(exc.code)) from exc
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        raise RetryableError(f"network: {exc}", code="network") from exc
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RetryableError(f"not JSON: {raw[:200]!r}", code="bad_response") from exc


def backend_for(channel: str) -> Backend:
    """The configured backend of `channel` (WUYE_NOTIFY["backends"])."""
    from . import BACKENDS

    conf = notify_settings()
    name = conf["backends"].get(channel, "demo")
    try:
        cls = BACKENDS[name]
    except KeyError as exc:
        raise PermanentError(f"unknown backend {name!r} for channel {channel}") from exc
    if cls.channels and channel not in cls.channels:
        raise PermanentError(f"backend {name!r} cannot send {channel}")
    section = {"aliyun": "aliyun", "tencent": "tencent", "wechat": "wechat", "push": "push"}
    config = conf.get(section.get(name, "email" if name == "smtp" else ""), {}) or {}
    return cls(config, timeout=conf["http_timeout"])
