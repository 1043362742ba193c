"""The client's address. Behind a reverse proxy every request comes from the proxy: one
sign-in code limit for the whole site, five bad passwords locking any staff account. So
X-Forwarded-For is believed only when the request comes from a proxy named in
TRUSTED_PROXIES (addresses or networks, comma-separated in the environment), and then read
from the right: the first address that is not one of our proxies is the client. A client
cannot forge it by sending its own X-Forwarded-For: that part is left of what our proxy
appended and is never reached while an untrusted address stands to its right."""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    if not remote or not _trusted(remote):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # garbage where an address should be: trust nothing
    return remote
