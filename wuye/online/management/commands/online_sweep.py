"""wuye online_sweep: query open payment orders at the provider and expire those whose time
is up (run every minute from cron or a scheduler; idempotent)."""

import json

from django.core.management.base import BaseCommand

from wuye.online.services import orders_sweep


class Command(BaseCommand):
    help = "Query open payment orders without a notification; expire those past their time."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, limit: int, **options):
        self.stdout.write(json.dumps(orders_sweep(limit=limit)))
