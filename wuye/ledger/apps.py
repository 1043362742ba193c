from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_chart(*, app_config, using="default", **kwargs) -> None:
    """Accounts added to `chart.ACCOUNTS` after the data migration exist after every migrate
    (and after a test flush)."""
    from django.db import connections

    from .models import Account
    from .services import accounts_sync_chart

    if Account._meta.db_table in connections[using].introspection.table_names():
        accounts_sync_chart(using=using)


class LedgerConfig(AppConfig):
    name = "wuye.ledger"
    verbose_name = _("General ledger")

    def ready(self):
        post_migrate.connect(_sync_chart, sender=self)
