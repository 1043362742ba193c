"""Pages with personal data are never kept by a browser or a proxy cache: every answer to a
signed-in staff member or owner says `Cache-Control: no-store` (a shared office computer's
back button or disk cache must not show the last owner's ID number)."""

from django.utils.cache import patch_cache_control

OWNER_COOKIE = "wuye_owner"


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated) or OWNER_COOKIE in request.COOKIES
        if signed_in or request.path.startswith("/api/"):
            patch_cache_control(response, no_store=True)
        return response
