from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "wuye.ledger"
