from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """What managers steer by: rates, arrears, reasons (read-only over the books)."""

    name = "wuye.reports"
    verbose_name = "Reports"
