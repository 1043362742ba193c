"""wuye recognise-revenue [--month YYYY-MM] [--estate CODE]

The monthly revenue recognition (确认收入) the scheduler runs daily: fees raised ahead of their
period (合同负债) whose month has come move to their items' revenue, one entry per estate and
month. Idempotent per estate and month (again: nothing posted); refused for a closed period or
a month that has not begun. Default: this month. Exits non-zero if an estate was refused."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wuye.audit import context
from wuye.billing import services
from wuye.billing.periods import Period
from wuye.core.errors import DomainError


class Command(BaseCommand):
    help = "Recognise fees raised ahead of their period as revenue once their month has come."

    def add_arguments(self, parser):
        parser.add_argument("--month", default="", help="YYYY-MM (default: this month)")
        parser.add_argument("--estate", default="", help="estate code (default: every estate)")

    def handle(self, *args, month, estate, **options):
        try:
            period = Period.parse(month) if month else Period.of(timezone.localdate())
        except DomainError as exc:
            raise CommandError(f"--month: {exc.message}") from exc
        token = context.bind(context.AuditContext(source="cli"))
        try:
            results = services.revenue_recognise_all(month=period, estate_code=estate)
        finally:
            context.reset(token)
        if estate and not results:
            raise CommandError(f"no estate with code {estate!r}")
        refused = 0
        for code, result in results:
            if isinstance(result, str):
                refused += 1
                self.stdout.write(f"{code} {period}: refused - {result}")
            else:
                self.stdout.write(
                    f"{code} {period}: {result.amount} recognised ({result.charges} charges)"
                )
        if refused:
            raise CommandError(f"{refused} estate(s) refused")
