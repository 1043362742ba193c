"""wuye assess-late-fees --as-of YYYY-MM-DD [--estate CODE]

Late fees where the estate's service contract has a clause; idempotent per charge and day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.billing import services
from wuye.core.errors import DomainError


class Command(BaseCommand):
    help = "Assess late fees on overdue charges."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="YYYY-MM-DD or 'today'")
        parser.add_argument("--estate", default="")

    def handle(self, *args, as_of, estate, **options):
        from django.utils import timezone

        try:
            day = timezone.localdate() if as_of == "today" else date.fromisoformat(as_of)
        except ValueError as exc:
            raise CommandError(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD or today)") from exc
        token = context.bind(context.AuditContext(source="cli"))
        try:
            try:
                results = services.late_fees_assess_all(as_of=day, estate_code=estate)
            except DomainError as exc:
                raise CommandError(f"--as-of: {exc.message}") from exc
            for r in results:
                if r.skipped:
                    self.stdout.write(f"{r.estate}: skipped - {r.skipped}")
                else:
                    self.stdout.write(
                        f"{r.estate}: {r.assessed} assessed, {r.charges} late fees, {r.amount}"
                    )
        finally:
            context.reset(token)
