"""Every URL pattern of the URL conf, as a template with its parameters: the crawl tests
(hostile parameters, role x endpoint x estate) walk them, so an endpoint added tomorrow is
checked the day it is added."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
# Not pages: Django's own admin, the payment providers' signed callbacks and the sandbox
# gateway (their own tests), language switching.
SKIPPED = ("/django-admin/", "/pay/notify/", "/pay/sandbox/", "/i18n/")


@dataclass(frozen=True)
class Endpoint:
    route: str  # "/registry/units/<int:pk>/"
    name: str  # "registry:unit_detail"
    callback: object

    @property
    def params(self) -> list[tuple[str, str]]:
        return [(m["conv"] or "str", m["name"]) for m in PARAM.finditer(self.route)]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("/api/")

    def path(self, values: dict[str, str]) -> str:
        return PARAM.sub(lambda m: str(values[m["name"]]), self.route)


def endpoints() -> list[Endpoint]:
    out: list[Endpoint] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if not isinstance(p.pattern, RoutePattern):
                continue  # regex routes: only DRF's format suffixes and Django's own
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, route, ns)
            elif isinstance(p, URLPattern):
                if any(route.startswith(s) for s in SKIPPED):
                    continue
                out.append(Endpoint(route, f"{namespace}{p.name or ''}", p.callback))

    walk(get_resolver().url_patterns, "/", "")
    return sorted(set(out), key=lambda e: e.route)
