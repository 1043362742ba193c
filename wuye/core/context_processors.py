from django.urls import NoReverseMatch, reverse

from .navigation import SECTIONS


def navigation(request):
    """The menu sections the user's role may open, with the active page marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    sections = []
    for title, items in SECTIONS:
        entries = []
        for item in items:
            if item.perm and not user.has_perm(item.perm):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue  # the app that serves it is not installed
            entries.append({"label": item.label, "url": url, "active": request.path == url})
        if entries:
            active = any(e["active"] for e in entries)
            sections.append({"title": title, "items": entries, "active": active})
    return {"nav_sections": sections}
