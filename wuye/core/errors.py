"""Domain errors: what went wrong, said so that staff can act on it."""

from django.utils.translation import gettext as _


class DomainError(Exception):
    """A business rule refused the request. `field` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        # The message alone: it is shown to staff and owners as it is (in their language);
        # `field` is for forms and the API's clients, never an English prefix on a page.
        return self.message


class PermissionDenied(DomainError):
    """The actor may not do this (role or estate)."""

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("code", "permission_denied")
        super().__init__(_("not permitted") if message is None else message, **kwargs)
