"""From a fee standard to an owner's statement in a real browser: finance files a standard, a
supervisor approves it, finance publishes it, previews and posts the December run, watches it
finish, and opens the owner's statement with the charge on it."""

from datetime import date

import pytest

from wuye.billing.models import BillingRun, Charge
from wuye.fees.models import FeeItem, FeeStandard
from wuye.fees.services import standard_approve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def test_finance_publishes_a_standard_bills_the_period_and_the_statement_shows_the_charge(
    browser_login, live_server, make_staff, estate, unit, owner
):
    # given a property fee item with no standard yet, finance and a supervisor of the estate
    item = FeeItem.objects.create(
        estate=estate,
        code="PROPERTY",
        name="物业服务费",
        kind=FeeItem.Kind.PROPERTY,
        basis=FeeItem.Basis.PER_AREA_MONTH,
        due_days=30,
    )
    finance = make_staff("finance", estates=[estate])
    supervisor = make_staff("supervisor", estates=[estate])
    page = browser_login(finance)

    # when finance files a standard of 2.80 per m² per month from 2025-01-01
    page.goto(f"{live_server.url}/fees/standards/new/")
    page.select_option("#id_fee_item", str(item.pk))
    page.fill("#id_rate", "2.80")
    page.fill("#id_effective_from", "2025-01-01")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/fees/standards/?estate={estate.pk}")
    standard = FeeStandard.objects.get(fee_item=item)
    assert standard.status == FeeStandard.Status.DRAFT

    # and a supervisor approves it, and finance publishes it on the standards page
    standard_approve(actor=supervisor, standard=standard)
    page.reload()
    page.click(f"form[action='/fees/standards/{standard.pk}/publish/'] button")
    page.wait_for_selector(f"a[href='/fees/standards/{standard.pk}/notice.pdf']")
    standard.refresh_from_db()
    assert standard.status == FeeStandard.Status.PUBLISHED

    # and previews the December run of the estate
    page.goto(f"{live_server.url}/billing/runs/new/")
    page.select_option("#id_estate", str(estate.pk))
    page.fill("#id_period", "2026-12")
    page.fill("#id_as_of", "2026-12-01")
    page.click("#run-preview")
    page.wait_for_selector("#run-preview-table")
    run = BillingRun.objects.get()
    assert run.status == BillingRun.Status.PREVIEWED
    assert run.preview["count"] == 1 and run.preview["amount"] == "250.60"
    assert "250.60" in page.inner_text("#run-preview-table")

    # and posts it, and waits for it to finish
    page.click("#run-post")
    page.wait_for_selector("#run-status[data-status='posted']")

    # then the run is posted with the one charge of 89.50 m² x 2.80
    assert "250.60" in page.inner_text("#run-status")
    charge = Charge.objects.get()
    assert (charge.party_id, charge.period, str(charge.amount)) == (owner.pk, "2026-12", "250.60")
    assert charge.due_date == date(2026, 12, 31)

    # and the owner's statement shows the charge and what is owed
    page.goto(f"{live_server.url}/billing/statements/{owner.pk}/")
    assert "2026-12 物业服务费 89.50㎡×2.8" in page.inner_text("#statement")
    assert page.inner_text("#statement-closing").strip() == "250.60"
