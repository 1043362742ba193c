"""Who posts money that a provider or a bank confirmed, when no staff member is at hand."""


class SystemActor:
    """The system itself, posting a payment a provider confirmed (a verified notification,
    an active query) or a bank reported (auto-debit return file, transfer import). It may do
    what the posting services require and sees every estate; audit rows name it
    (`actor_name`) and link no user."""

    pk = None
    id = None
    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    _wuye_estate_ids = None  # registry.selectors.visible_estate_ids: all estates

    def __init__(self, username: str):
        self.username = username

    def has_perm(self, perm: str, obj=None) -> bool:
        return True

    def __str__(self) -> str:
        return self.username


ONLINE = SystemActor("online-payments")
BANK = SystemActor("bank-files")
