"""Moving a company in, in a real browser: a clerk uploads 3,000 units, watches the
background worker's progress bar fill, confirms, and sees what was written."""

import re

import pytest
from django_tasks_db.management.commands.db_worker import Worker

from wuye.registry.models import ImportJob, Unit

from .fixtures.sheets import csv_bytes, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
THREE_THOUSAND = re.compile(r"\b3,?000\b")

# every value the bar shows, as htmx swaps it in, kept by the page itself
WATCH_BAR = """() => {
  window.barValues = [];
  const note = () => {
    const bar = document.querySelector('#import-progress');
    if (bar) window.barValues.push(Number(bar.getAttribute('aria-valuenow')));
  };
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture(autouse=True)
def _database_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def run_worker() -> None:
    """What `wuye db_worker --queue-name bulk --batch` does, in this process."""
    Worker(
        queue_names=["bulk"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    ).run()


def test_a_clerk_imports_3000_units_watching_the_bar_fill(
    browser_login, live_server, make_staff, estate, building, tmp_path
):
    # given a clerk of the estate and a sheet of 3,000 units with their owners
    clerk = make_staff("customer_service", estates=[estate])
    rows = [["楼栋", "房号", "建筑面积", "业主姓名", "手机"]] + [
        ["1", f"1-{i // 200 + 1}-{i % 200 + 101}", "88.50", f"业主{i}", f"139{i:08d}"]
        for i in range(3000)
    ]
    path = write(tmp_path, "units-3000.csv", csv_bytes(rows, "gbk"))
    page = browser_login(clerk)

    # when they upload it
    page.goto(f"{live_server.url}/registry/import/")
    page.select_option("#id_kind", "units")
    page.select_option("#id_estate", str(estate.pk))
    page.set_input_files("#id_file", str(path))
    page.click("#import-preview")

    # then the job waits for the worker with an empty bar
    page.wait_for_selector("#import-job[data-state='queued']")
    assert page.get_attribute("#import-progress", "aria-valuenow") == "0"
    page.evaluate(WATCH_BAR)

    # when the worker checks it, the page polling every 2 s
    run_worker()

    # then the bar filled to 100% and the preview offers to import
    page.wait_for_selector("#import-job[data-state='checked']", timeout=30_000)
    seen = page.evaluate("window.barValues")
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
    # (3000 in Chinese, which groups digits by ten thousands without a separator)
    assert THREE_THOUSAND.search(page.inner_text("#import-progress-text"))
    assert THREE_THOUSAND.search(page.inner_text("#import-counts"))
    assert Unit.objects.filter(estate=estate).count() == 0

    # when they confirm, and the worker writes it
    page.click("#import-confirm")
    page.wait_for_selector("#import-job[data-state='confirmed']")
    run_worker()

    # then the page shows what was written
    page.wait_for_selector("#import-job[data-state='done']", timeout=30_000)
    done = page.inner_text("#import-done")
    assert len(THREE_THOUSAND.findall(done)) == 3  # units, owners, ownerships
    assert page.get_attribute("#import-progress", "aria-valuenow") == "100"
    assert Unit.objects.filter(estate=estate).count() == 3000
    assert ImportJob.objects.get().state == ImportJob.State.DONE
    page.screenshot(path=str(tmp_path / "import-done.png"))
