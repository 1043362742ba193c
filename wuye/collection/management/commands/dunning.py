"""wuye dunning run [--as-of YYYY-MM-DD|today] [--estate CODE]

The dunning run (services.run.dunning_run); idempotent per day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wuye.audit import context
from wuye.collection.services.run import dunning_run
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Dunning: run the staged engine over the overdue parties."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="open/advance cases and emit the stage actions")
        run.add_argument("--as-of", default="today", help="YYYY-MM-DD or 'today'")
        run.add_argument("--estate", default="", help="estate code (default: every estate)")

    def handle(self, *args, action, as_of, estate, **options):
        day = timezone.localdate() if as_of == "today" else date.fromisoformat(as_of)
        estate_id = None
        if estate:
            found = Estate.objects.filter(code=estate).first()
            if found is None:
                raise CommandError(f"no estate with code {estate!r}")
            estate_id = found.pk
        token = context.bind(context.AuditContext(source="cli"))
        try:
            run = dunning_run(
                as_of=day, estate_id=estate_id, progress=lambda code: self.stdout.write(code)
            )
        finally:
            context.reset(token)
        counts = run.counts
        self.stdout.write(
            f"{day}: {counts.get('emitted', 0)} actions "
            f"(by stage {counts.get('by_stage', {})}), opened {counts.get('opened', 0)}, "
            f"closed {counts.get('closed', 0)}, held {counts.get('held', 0)}, "
            f"escalated {counts.get('escalated', 0)}"
        )
