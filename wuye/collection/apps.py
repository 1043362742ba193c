from django.apps import AppConfig


class CollectionConfig(AppConfig):
    """Chasing arrears lawfully and politely (DESIGN.md §5)."""

    name = "wuye.collection"
    verbose_name = "Collection"
