"""wuye ledger-export --estate CODE --from 2026-01-01 --to 2026-01-31 -o vouchers.xlsx

The estate's vouchers of the period, one row per posting, as .xlsx or .csv (by the file's
extension, or --format), for import into Kingdee or Yonyou. Audited as an export."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.core.errors import DomainError
from wuye.registry.models import Estate


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Export an estate's vouchers of a period (.xlsx or .csv) for Kingdee / Yonyou."

    def add_arguments(self, parser):
        parser.add_argument("--estate", required=True, help="estate code, e.g. HY")
        parser.add_argument("--from", dest="date_from", required=True, type=_date)
        parser.add_argument("--to", dest="date_to", required=True, type=_date)
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--format", choices=["xlsx", "csv"], default=None)

    def handle(self, *args, estate, date_from, date_to, output, format=None, **options):
        from wuye.ledger.services import vouchers_export

        try:
            found = Estate.objects.get(code=estate)
        except Estate.DoesNotExist as exc:
            raise CommandError(f"no estate with code {estate!r}") from exc
        path = Path(output)
        fmt = format or ("csv" if path.suffix.lower() == ".csv" else "xlsx")
        token = context.bind(context.AuditContext(source="cli"))
        try:
            content, rows = vouchers_export(
                actor=None, estate=found, date_from=date_from, date_to=date_to, fmt=fmt
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)
        path.write_bytes(content)
        self.stdout.write(f"{rows} postings of {found.code} written to {path}")
