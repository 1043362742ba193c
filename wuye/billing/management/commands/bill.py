"""wuye bill --period 2026-12 [--estate CODE] [--as-of YYYY-MM-DD] [--dry-run] [--resume ID]

Prints the preview (totals per estate and fee item, units skipped and why); without --dry-run
posts the run with a progress bar on stderr. Exits non-zero on a refusal (closed period, no
published standard, bad period)."""

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.billing import services
from wuye.billing.models import BillingRun
from wuye.core.errors import DomainError
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Preview or post a bill run for a period."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM, e.g. 2026-12")
        parser.add_argument("--estate", default="", help="estate code; all estates when omitted")
        parser.add_argument("--as-of", default="", help="run date (default today)")
        parser.add_argument("--dry-run", action="store_true", help="preview only")
        parser.add_argument("--resume", type=int, help="resume the failed run with this id")
        parser.add_argument("--json", action="store_true", help="print the preview as JSON")

    def handle(self, *args, period, estate, as_of, dry_run, resume, json: bool, **options):
        token = context.bind(context.AuditContext(source="cli"))
        try:
            if resume:
                run = BillingRun.objects.get(pk=resume)
            else:
                if not period:
                    raise CommandError("--period is required")
                est = None
                if estate:
                    est = Estate.objects.filter(code=estate).first()
                    if est is None:
                        raise CommandError(f"no estate {estate!r}")
                day = date.fromisoformat(as_of) if as_of else None
                run = services.billing_run_create(actor=None, estate=est, period=period, as_of=day)
                preview = services.billing_run_preview(run=run)
                self._print_preview(preview, as_json=json)
                if dry_run:
                    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.CANCELLED)
                    return
                if preview["refused"]:
                    raise CommandError("; ".join(preview["refused"]))
            run = services.billing_run_post(run=run, actor=None, progress=self._bar)
            sys.stderr.write("\n")
            self.stdout.write(
                f"run {run.pk} {run.status}: {run.charges_created} charges, {run.total_amount}"
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)

    def _print_preview(self, preview: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(preview, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"period {preview['period']}")
        for row in preview["items"]:
            line = f"  {row['estate']} {row['item']} {row['item_name']}: "
            if row["waiting"]:
                line += f"waiting - {row['waiting']}"
            elif row["refused"]:
                line += f"REFUSED - {row['refused']}"
            else:
                line += f"{row['count']} charges, {row['amount']} (due {row['due_date']})"
            self.stdout.write(line)
            for skip in row["skipped"]:
                units = ", ".join(skip["units"])
                self.stdout.write(f"    skipped {skip['count']}: {skip['reason']} [{units}]")
        self.stdout.write(f"total {preview['count']} charges, {preview['amount']}")

    def _bar(self, run: BillingRun) -> None:
        width = 40
        done = int(width * run.progress_percent / 100)
        sys.stderr.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {run.progress_percent:3d}% "
            f"{run.units_done}/{run.units_total} units, {run.charges_created} charges"
        )
        sys.stderr.flush()
