"""wuye import {buildings,units,owners} FILE --estate CODE [--dry-run] [--update]
[--create-buildings] [--user USERNAME]

Checks the whole file and prints every error as FILE:ROW:COLUMN: reason; with any error
nothing is written and the command exits non-zero."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.core.errors import DomainError
from wuye.registry.imports import KINDS, ImportRejected, import_apply, import_check
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Import buildings, units or owners from an .xlsx or .csv (UTF-8 or GBK) file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument("--estate", required=True, help="estate code, e.g. HY")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--update", action="store_true", help="update records that already exist"
        )
        parser.add_argument(
            "--create-buildings",
            action="store_true",
            help="units: create buildings the file names that do not exist yet",
        )
        parser.add_argument(
            "--user", help="act as this staff user (their permissions and estates apply)"
        )

    def handle(self, *args, kind, file, estate, dry_run, update, create_buildings, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
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
            with path.open("rb") as handle:
                service = import_check if dry_run else import_apply
                report = service(
                    actor=actor,
                    estate=estate_obj,
                    kind=kind,
                    file=handle,
                    filename=str(file),
                    update=update,
                    create_buildings=create_buildings,
                )
        except ImportRejected as exc:
            report = exc.report
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)
        for line in report.error_lines():
            self.stderr.write(line)
        if report.ignored_columns:
            self.stderr.write(f"{file}: ignored columns: {', '.join(report.ignored_columns)}")
        if not report.ok:
            raise CommandError(
                f"{len(report.errors)} errors in {report.rows} rows; nothing was imported"
            )
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.counts.items() if v)
        verb = "checked, nothing written" if dry_run else "imported"
        self.stdout.write(f"{file}: {report.rows} rows {verb} ({counts or 'no changes'})")
