"""wuye period-close --estate CODE --month YYYY-MM --user USERNAME [--note TEXT] | --list

The monthly accounting period close (结账) as the page does it: from then on no journal entry
may be dated in that month (months close in order, only after they ended); audited as the
user. `--list` prints the estate's closed months."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.core.errors import DomainError
from wuye.ledger.models import PeriodClose
from wuye.ledger.services import period_close
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Close an accounting period (结账): no entry may be dated in that month afterwards."

    def add_arguments(self, parser):
        parser.add_argument("--estate", required=True, help="estate code, e.g. HY")
        parser.add_argument("--month", default="", help="the month to close, e.g. 2026-11")
        parser.add_argument("--user", default="", help="act as this staff user")
        parser.add_argument("--note", default="")
        parser.add_argument("--list", dest="show", action="store_true", help="list closed months")

    def handle(self, *args, estate, month, user, note, show, **options):
        try:
            estate_obj = Estate.objects.get(code=estate)
        except Estate.DoesNotExist:
            raise CommandError(f"no estate with code {estate!r}") from None
        if show:
            for close in PeriodClose.objects.filter(estate=estate_obj).order_by("month"):
                self.stdout.write(f"{close.month:%Y-%m} closed {close.closed_at:%Y-%m-%d %H:%M}")
            return
        try:
            year, mon = (int(part) for part in month.split("-"))
            first = date(year, mon, 1)
        except ValueError:
            raise CommandError(f"--month {month!r}: expected YYYY-MM, e.g. 2026-11") from None
        try:
            actor = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user: no active user {user!r}") from None
        token = context.bind(context.AuditContext(source="cli"))
        try:
            period_close(actor=actor, estate=estate_obj, month=first, note=note)
        except DomainError as exc:
            raise CommandError(f"{estate} {month}: {exc.message}") from exc
        finally:
            context.reset(token)
        self.stdout.write(f"{estate} {first:%Y-%m} closed")
