from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuye.billing"

    def ready(self) -> None:
        from . import checks, selectors

        # `wuye billing-check`: more than the receivable (issue 11 §20)
        checks.register(selectors.prepayment_checks)
        checks.register(selectors.deposit_checks)
        checks.register(selectors.contract_liability_checks)
        checks.register(selectors.cached_balance_checks)
