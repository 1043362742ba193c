from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuye.core"
    verbose_name = "wuye core"
