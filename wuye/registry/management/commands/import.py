"""wuye import {buildings,units,owners} FILE --estate CODE [--dry-run] [--update]
[--create-buildings] [--user USERNAME] [--progress | --no-progress]

Checks the whole file and prints every error as FILE:ROW:COLUMN: reason; with any error
nothing is written and the command exits non-zero. Runs in the foreground, with a progress
bar on stderr when that is a terminal (the staff page runs the same services as a job)."""

import sys
from argparse import BooleanOptionalAction
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
        parser.add_argument(
            "--progress",
            action=BooleanOptionalAction,
            default=None,
            help="show a progress bar on stderr (default: when stderr is a terminal)",
        )

    def handle(
        self,
        *args,
        kind,
        file,
        estate,
        dry_run,
        update,
        create_buildings,
        user,
        progress=None,
        **options,
    ):
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
        if progress is None:
            progress = sys.stderr.isatty()
        self._bar_shown = False
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
                    progress=self._bar if progress else None,
                )
        except ImportRejected as exc:
            report = exc.report
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)
            if self._bar_shown:
                self.stderr.write("")  # end the bar's line
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

    def _bar(self, step: str, done: int, total: int) -> None:
        width = 40
        filled = width * done // total if total else width
        noun = "rows checked" if step == "reading" else "records written"
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {noun}", ending=""
        )
        self.stderr.flush()
        self._bar_shown = True
