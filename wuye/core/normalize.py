"""Normalising what people type or paste: full-width digits, stray spaces, phone formats."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landlines such as 0755-12345678 or 021-1234567(-ext), and hotlines such as 400-123-4567.
LANDLINE = re.compile(r"^(0\d{2,3}-?\d{7,8}(-\d{1,5})?|[48]00-?\d{3}-?\d{4})$")


def clean_text(value: object) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed, inner runs of space to one."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def clean_phone(value: object) -> str:
    """Digits and dashes only; a +86/0086 prefix on a mobile is dropped."""
    text = clean_text(value).replace(" ", "").replace("(", "").replace(")", "")
    text = re.sub(r"^(\+86|0086)-?", "", text)
    digits = text.replace("-", "")
    if MOBILE.match(digits):
        return digits  # 139-0000-3333 is a mobile typed with dashes
    return text


def is_valid_phone(phone: str) -> bool:
    return bool(MOBILE.match(phone) or LANDLINE.match(phone))


def as_id(value: object) -> int | None:
    """A record id from a query string or form field, or None: ASCII digits only (Python's
    `isdigit()` also takes '²' and other digits `int()` refuses) and small enough for a
    bigint, so a hand-edited URL is a 404 or "not found", never a crash."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


def as_ids(values) -> list[int]:
    """The record ids among `values` (see `as_id`), in order, each once."""
    found = (as_id(v) for v in values)
    return list(dict.fromkeys(i for i in found if i is not None))


def as_date(value: object):
    """A date from a query string or form field (YYYY-MM-DD), or None: a malformed or
    impossible date (2026-02-30) is "no date", never a crash (Django's `parse_date` raises
    ValueError for the impossible ones)."""
    from django.utils.dateparse import parse_date

    try:
        return parse_date(str(value if value is not None else "").strip())
    except ValueError:
        return None
