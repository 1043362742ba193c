import importlib

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_bank_layouts(*, app_config, **kwargs) -> None:
    """The generic auto-debit layouts of migration 0002, again after every migrate, so a
    database flushed by a test (or one where they were deleted) always has them."""
    if app_config.name != "wuye.online":
        return
    from .models import BankFileLayout

    seed = importlib.import_module("wuye.online.migrations.0002_bank_layouts")
    for layout in seed.LAYOUTS:
        BankFileLayout.objects.get_or_create(code=layout["code"], defaults=layout)


class OnlineConfig(AppConfig):
    name = "wuye.online"

    def ready(self):
        post_migrate.connect(_ensure_bank_layouts, dispatch_uid="wuye-online-layouts")
