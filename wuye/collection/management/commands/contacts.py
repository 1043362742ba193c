"""wuye contacts verify [--estate CODE]

Recompute the contact log's hash chain; lists every break and exits 1 if there is one."""

import sys

from django.core.management.base import BaseCommand, CommandError

from wuye.collection.services.contacts import contacts_verify
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "The contact log (催收记录): verify the hash chain."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="report edited, deleted or inserted entries")
        verify.add_argument("--estate", default="")

    def handle(self, *args, action, estate, **options):
        estate_id = None
        if estate:
            found = Estate.objects.filter(code=estate).first()
            if found is None:
                raise CommandError(f"no estate with code {estate!r}")
            estate_id = found.pk
        breaks = contacts_verify(estate_id=estate_id)
        for item in breaks:
            self.stdout.write(str(item))
        if breaks:
            self.stderr.write(f"{len(breaks)} break(s) in the contact log")
            sys.exit(1)
        self.stdout.write("contact log intact")
