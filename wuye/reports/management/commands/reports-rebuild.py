"""`wuye reports-rebuild [--estate HY]`: drop and recompute the report summaries."""

from django.core.management.base import BaseCommand, CommandError

from wuye.registry.models import Estate
from wuye.reports import summaries


class Command(BaseCommand):
    help = "Drop and recompute the report summaries (all estates, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--estate", default="", help="estate code")

    def handle(self, *args, **options):
        estate_id = None
        if options["estate"]:
            estate = Estate.objects.filter(code=options["estate"]).first()
            if estate is None:
                raise CommandError(f"no estate with code {options['estate']!r}")
            estate_id = estate.pk
        summaries.rebuild(estate_id=estate_id)
        self.stdout.write("report summaries rebuilt")
