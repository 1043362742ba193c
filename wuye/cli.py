"""The `wuye` console command: Django's manage.py plus the project's own commands
(`wuye seed-demo`, `wuye import units FILE --estate CODE`, `wuye bill ...`)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
