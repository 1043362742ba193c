"""Who posts money that a provider or a bank confirmed, when no staff member is at hand:
named system actors (`wuye.audit.services.SystemActor`), so audit rows say which part of the
system acted."""

from wuye.audit.services import SystemActor

ONLINE = SystemActor("online-payments")
BANK = SystemActor("bank-files")

__all__ = ["BANK", "ONLINE", "SystemActor"]
