"""wuye notify_dispatch [--loop SECONDS]: send every message whose time has come (retries
after their backoff, messages held by quiet hours or the weekly cap). The database task backend
defers these itself; this command is the safety net and what backends without deferral need."""

import time

from django.core.management.base import BaseCommand

from wuye.notifications.services import message_dispatch_due


class Command(BaseCommand):
    help = "Send the outbox messages that are due."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, loop: int, limit: int, **options):
        while True:
            sent = message_dispatch_due(limit=limit)
            self.stdout.write(f"{sent} messages dispatched")
            if not loop:
                return
            time.sleep(loop)
