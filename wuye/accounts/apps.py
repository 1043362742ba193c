from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wuye.accounts"
    verbose_name = _("Staff accounts")

    def ready(self):
        from . import roles, signals  # noqa: F401

        post_migrate.connect(roles.sync_roles_after_migrate)
