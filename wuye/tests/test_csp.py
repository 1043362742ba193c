"""Content-Security-Policy (issue 12 §8): every page carries the policy; no inline script or
<style> runs without the request's nonce, and no template uses on* handler attributes (the
policy would silently switch them off)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import wuye

pytestmark = pytest.mark.django_db

NONCED = 'nonce="{{ CSP_NONCE }}"'
# Types a browser does not run (json_script's data, templates).
INERT = re.compile(r'type="(application/(ld\+)?json|text/template)"')


def _templates():
    root = Path(wuye.__file__).parent
    return sorted(p for p in root.glob("**/templates/**/*.html") if "/tests/" not in str(p))


def test_every_template_nonces_its_inline_scripts_and_styles_and_has_no_handlers():
    faults = []
    for path in _templates():
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and not INERT.search(tag) and NONCED not in tag:
                faults.append(f"{path.name}: {tag}")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if NONCED not in tag:
                faults.append(f"{path.name}: {tag}")
        for handler in re.findall(r"<[^>]*\son[a-z]+\s*=", text):
            faults.append(f"{path.name}: {handler[-60:]}")
    assert not faults, "\n".join(faults)


class _Inline(HTMLParser):
    """Inline scripts and styles of a page with their nonce; on* attributes."""

    def __init__(self):
        super().__init__()
        self.nonces, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        inert = tag == "script" and (
            attrs.get("src") or INERT.search(f'type="{attrs.get("type")}"')
        )
        if tag in ("script", "style") and not inert:
            self.nonces.append((tag, attrs.get("nonce")))
        self.handlers += [name for name in attrs if name.startswith("on")]


def check_page(response) -> None:
    """The answer carries the policy and every inline script/style carries its nonce."""
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "object-src 'none'" in policy
    if "text/html" not in response.get("Content-Type", ""):
        return
    page = _Inline()
    page.feed(response.content.decode())
    nonce = re.search(r"'nonce-([^']+)'", policy)
    for tag, value in page.nonces:
        assert nonce and value == nonce.group(1), f"{response.request['PATH_INFO']}: {tag}"
    assert not page.handlers, response.request["PATH_INFO"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/staff/",
        "/registry/units/",
        "/registry/estates/",
        "/payments/",
        "/fees/meters/",
        "/notifications/",
        "/reports/",
        "/api/v1/units/",
        "/api/v1/docs/",
    ],
)
def test_staff_pages_carry_the_policy_and_nonce_their_scripts(client, make_staff, unit, path):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    response = client.get(path, follow=True)
    assert response.status_code == 200, path
    check_page(response)


@pytest.mark.parametrize("path", ["/accounts/login/", "/owner/login/", "/no-such-page/"])
def test_public_pages_carry_the_policy(client, path):
    check_page(client.get(path))


def test_the_nonce_is_new_for_every_answer(client, make_staff, unit):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    first, second = (client.get("/registry/units/") for _ in range(2))
    nonce = re.compile(r"'nonce-([^']+)'")
    assert nonce.search(first["Content-Security-Policy"]).group(1) != nonce.search(
        second["Content-Security-Policy"]
    ).group(1)


def test_report_only_sends_the_same_policy_without_enforcing(settings, client):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    response = client.get("/accounts/login/")
    assert "Content-Security-Policy" not in response
    assert "script-src" in response["Content-Security-Policy-Report-Only"]
