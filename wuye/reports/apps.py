from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """What managers steer by: rates, arrears, reasons (read-only over the books)."""

    name = "wuye.reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from wuye.billing import events

        from .summaries import post

        events.on_receivables_changed(post)
