"""wuye billing-check [--estate CODE]

Proves for every estate that the RECEIVABLE control account of the general ledger equals the
sum of the open (outstanding) charges of the subledger; prints each difference and exits
non-zero if any estate is off."""

from django.core.management.base import BaseCommand, CommandError

from wuye.billing.selectors import books_check


class Command(BaseCommand):
    help = "Check that RECEIVABLE equals the open charges, per estate."

    def add_arguments(self, parser):
        parser.add_argument("--estate", default="")

    def handle(self, *args, estate, **options):
        off = 0
        for row in books_check(estate):
            mark = "ok" if row.ok else "DIFFERENCE"
            self.stdout.write(
                f"{row.estate}: receivable {row.control} open charges {row.subledger} "
                f"{mark} {row.difference if not row.ok else ''}".rstrip()
            )
            off += not row.ok
        if off:
            raise CommandError(f"{off} estate(s) out of balance")
