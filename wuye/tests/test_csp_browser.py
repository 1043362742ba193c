"""The Content-Security-Policy in a real browser: the pages raise no violation (every inline
script and style runs with its nonce), and what used to be inline handlers still works: a
filter <select> submits its form, a dangerous button asks first."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def _violations(page) -> list[str]:
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp")


def test_staff_pages_run_under_the_policy(browser_login, make_staff, unit, live_server):
    supervisor = make_staff("supervisor", estates=[unit.estate])
    make_staff("cashier", estates=[unit.estate])
    page = browser_login(supervisor)
    page.add_init_script(WATCH)
    for path in ("/", "/staff/", "/registry/units/", "/payments/", "/api/v1/docs/"):
        response = page.goto(f"{live_server.url}{path}")
        assert "script-src" in response.headers["content-security-policy"]
        assert _violations(page) == [], path
    page.wait_for_selector("#swagger-ui .information-container")  # its script ran

    # the status filter submits its form when changed (was onchange="this.form.submit()")
    page.goto(f"{live_server.url}/staff/")
    page.select_option("#f-active", "0")
    page.wait_for_url("**/staff/?*active=0*")
    assert _violations(page) == []

    # deactivating asks first; saying no keeps the account (was onclick="return confirm()")
    page.goto(f"{live_server.url}/staff/")
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.locator("#staff button.btn-outline-danger").first.click()
    page.wait_for_timeout(300)
    assert questions and page.url.endswith("/staff/")
    assert _violations(page) == []


def test_the_owner_portal_runs_under_the_policy(page, live_server, owner):
    page.add_init_script(WATCH)
    response = page.goto(f"{live_server.url}/owner/login/")
    assert "script-src" in response.headers["content-security-policy"]
    assert _violations(page) == []
    # the portal's own <style> applies (it carries the nonce): the page's background
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(245, 246, 248)"
