"""How staff are named to people: by their name, never by their login (username).

A Chinese name is written family name first with no space (李娜); the staff page keeps a
person's whole name in `last_name` (see wuye.accounts.services: splitting 欧阳娜娜 into family
and given names is guesswork), while accounts made elsewhere may hold the family name in
`last_name` and the given name in `first_name`. Latin names read "Anna Li". The username is
shown only when an account has no name at all (an account made by a script); the staff page
never makes one."""

import unicodedata


def _cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def person_name(user, *, login_fallback: bool = True) -> str:
    """The name to show for a user (or a system actor), e.g. 李娜; empty for nobody.
    Without `login_fallback`, an account without a name gives an empty string."""
    if user is None:
        return ""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first and last:
        return f"{last}{first}" if _cjk(first + last) else f"{first} {last}"
    if last or first or not login_fallback:
        return last or first
    return str(getattr(user, "username", "") or "")
