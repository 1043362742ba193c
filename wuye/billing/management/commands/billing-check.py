"""wuye billing-check [--estate CODE]

Proves for every estate that the RECEIVABLE control account of the general ledger equals the
sum of the open (outstanding) charges of the subledger, and every check other apps register
(`wuye.billing.checks`: the suspense account against the open payment exceptions, ...);
prints each difference and exits non-zero if anything is off."""

from django.core.management.base import BaseCommand, CommandError

from wuye.billing import checks
from wuye.billing.selectors import books_check


class Command(BaseCommand):
    help = "Check that RECEIVABLE equals the open charges, and the other books checks."

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
        for check in checks.run(estate):
            mark = "ok" if check.ok else f"DIFFERENCE {check.difference}"
            self.stdout.write(
                f"{check.estate}: {check.what}: ledger {check.ledger} subledger "
                f"{check.subledger} {mark} {check.note}".rstrip()
            )
            off += not check.ok
        if off:
            raise CommandError(f"{off} check(s) out of balance")
