"""Audit summaries read in the reader's language.

Decision (issue 13 §4): a summary is stored as its English message id and parameters, and
translated when the audit log is shown, not when it is written. The same row is read by staff in
zh-hans and zh-hant (and an auditor in English); a row written by a task has no user language at
all; and rows are append-only, so a summary frozen in the writer's language, or a wording fixed
later, could never be put right. The English text is kept in `summary` too: it is what searches,
exports and the API read, and what old rows (written before this) show.

    from django.utils.translation import gettext_noop
    from wuye.audit.summaries import Summary
    audit_record(..., summary=Summary(gettext_noop("receipt %(code)s printed"), code=r.code))

`gettext_noop` marks the message for `make messages`; parameters are stored as JSON (amounts
as strings). A parameter that is a word (a status, a kind) is passed as its English label and
named in `words`, and is translated when shown too:

    Summary(gettext_noop("order %(status)s"), words=["status"], status=Order.Status.PAID.label)
"""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext


class Summary:
    """An audit summary: an English message (marked with gettext_noop) and its parameters."""

    def __init__(self, message: str, /, words: list[str] | tuple = (), **params: Any):
        self.message = message
        self.params = {k: _plain(_english(v) if k in words else v) for k, v in params.items()}
        if words:
            self.params["_words"] = list(words)

    def english(self) -> str:
        return _format(self.message, self.params)

    def __str__(self) -> str:
        return self.english()


def _english(value: Any) -> str:
    """A (lazy) label as its English message id."""
    from django.utils import translation

    with translation.override(None):
        return str(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _format(message: str, params: dict | None) -> str:
    if not params:
        return message
    try:
        return message % params
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return message


def render(message: str, params: dict | None, fallback: str = "") -> str:
    """The summary in the active language (`fallback`, the stored text, when there is no
    message; the English text when a translation lost a placeholder)."""
    if not message:
        return fallback
    translated = gettext(message)
    if not params:
        return translated
    words = params.get("_words") or ()
    params = {k: (gettext(v) if k in words and v else v) for k, v in params.items()}
    try:
        return translated % params
    except (KeyError, TypeError, ValueError):
        return _format(message, params) or fallback
