"""wuye transfer-statement FILE --estate CODE --user USERNAME

Imports a bank statement of the estate's collection account (.xlsx, .csv or MT940) as the
bank transfers page does, posting every credit that names a payment reference, in the
foreground whatever its length (for a cron job that fetches the day's file). Prints what
became of the lines; a file in error prints every error as FILE:ROW:COLUMN: reason, posts
nothing and exits non-zero. The same file twice posts nothing more."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wuye.audit import context
from wuye.core.errors import DomainError
from wuye.online.services import transfer_statement_import
from wuye.online.services.bank import statement_size_check
from wuye.online.statements import StatementRejected
from wuye.registry.models import Estate


class Command(BaseCommand):
    help = "Import a bank statement and post the transfers naming a payment reference."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--estate", required=True, help="estate code, e.g. HY")
        parser.add_argument("--user", required=True, help="act as this staff user")

    def handle(self, *args, file, estate, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            statement_size_check(path.stat().st_size)
        except StatementRejected as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        try:
            estate_obj = Estate.objects.get(code=estate)
        except Estate.DoesNotExist:
            raise CommandError(f"no estate with code {estate!r}") from None
        try:
            actor = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no active user {user!r}") from None
        token = context.bind(context.AuditContext(source="cli"))
        try:
            with path.open("rb") as handle:
                statement, new = transfer_statement_import(
                    actor=actor, estate=estate_obj, file_name=path.name, file=handle, inline=True
                )
        except StatementRejected as exc:
            for error in exc.errors:
                where = f"{error.row}:{error.column}" if error.column else f"{error.row}"
                self.stderr.write(f"{file}:{where}: {error.message}")
            raise CommandError(f"{file}: {exc.message}") from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset(token)
        already = "" if new else " (imported before; nothing posted again)"
        self.stdout.write(
            f"{file}: {statement.lines_total} lines, {statement.posted} posted, "
            f"{statement.to_check} to check{already}"
        )
