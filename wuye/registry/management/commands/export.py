"""wuye export {buildings,units,owners} --estate CODE -o FILE.xlsx|FILE.csv [--user USERNAME]

Writes the estate's records in the columns the importer reads; audited as an export."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.core.errors import DomainError
from wuye.registry.exports import FORMATS, KINDS, export_write
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Export buildings, units or owners of an estate to .xlsx or .csv (UTF-8 with BOM)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--estate", required=True, help="estate code, e.g. HY")
        parser.add_argument("-o", "--output", required=True, help="FILE.xlsx or FILE.csv")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file name")
        parser.add_argument("--user", help="act as this staff user")

    def handle(self, *args, kind, estate, output, format, user, **options):
        path = Path(output)
        fmt = format or path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise CommandError(f"{output}: name it .xlsx or .csv, or pass --format")
        try:
            estate_obj = Estate.objects.get(code=estate)
        except Estate.DoesNotExist:
            raise CommandError(f"no estate with code {estate!r}") from None
        actor = None
        if user:
            try:
                actor = get_user_model().objects.get(username=user, is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no active user {user!r}") from None
        token = context.bind(context.AuditContext(source="cli"))
        try:
            with path.open("wb") as handle:
                count = export_write(
                    actor=actor, estate=estate_obj, kind=kind, fmt=fmt, file=handle
                )
        except DomainError as exc:
            path.unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)
        self.stdout.write(f"{output}: {count} {kind} exported")
