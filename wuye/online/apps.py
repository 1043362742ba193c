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


def suspense_checks(estate_code: str) -> list:
    """`wuye billing-check`: each estate's suspense account per channel = its open exceptions."""
    from wuye.billing.checks import Check

    from .services.suspense import suspense_check

    return [
        Check(
            estate=row.estate,
            what=f"suspense {row.channel} / open payment exceptions",
            ledger=row.ledger,
            subledger=row.open_items,
            note=f"{row.unbooked} open item(s) not on the suspense account" if row.unbooked else "",
        )
        for row in suspense_check(estate_code)
    ]


class OnlineConfig(AppConfig):
    name = "wuye.online"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from wuye.billing import checks

        from .models import MerchantAccount
        from .services.notify import accounts_forget

        checks.register(suspense_checks)

        post_migrate.connect(_ensure_bank_layouts, dispatch_uid="wuye-online-layouts")
        # the notify endpoints cache the active accounts (a second at most, per process)
        for signal in (post_save, post_delete):
            signal.connect(
                accounts_forget, sender=MerchantAccount, dispatch_uid=f"wuye-accounts-{id(signal)}"
            )
