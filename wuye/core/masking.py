"""Masking of phone and ID numbers for roles that may not see them (138****5678)."""


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(number: str | None) -> str:
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def mask_name(name: str | None) -> str:
    """张伟 -> 张*, 欧阳娜娜 -> 欧***: enough to recognise, not enough to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""
