"""wuye online_post: the inbox worker of `WUYE_PAY["notify_posting"] = "worker"`: posts the
acknowledged notifications in batches until stopped (SIGTERM); `--once` until none is
queued. Several may run (each claims its own with SKIP LOCKED on PostgreSQL)."""

from django.core.management.base import BaseCommand

from wuye.online.services import inbox_lag, inbox_work


class Command(BaseCommand):
    help = "Post the payment notifications acknowledged before posting (the inbox worker)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200, help="notifications per batch")
        parser.add_argument("--once", action="store_true", help="stop when none is queued")

    def handle(self, *args, batch: int, once: bool, **options):
        taken = inbox_work(batch=batch, once=once)
        lag = inbox_lag()
        self.stdout.write(f"posted {taken}; still queued {int(lag['queued'])}")
