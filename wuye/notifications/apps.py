from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_default_templates(*, app_config, **kwargs) -> None:
    if app_config.name == "wuye.notifications":
        from .defaults import templates_ensure_defaults

        templates_ensure_defaults()


class NotificationsConfig(AppConfig):
    name = "wuye.notifications"

    def ready(self):
        from wuye.registry import events

        from . import welcome

        post_migrate.connect(_ensure_default_templates, dispatch_uid="wuye-notify-templates")
        events.on_relation_started(welcome.on_relation_started)
