"""The WSGI application: Django's handler, except for the providers' signed server-to-server
callbacks (`settings.CALLBACK_PATHS`, the payment notify endpoints), which go through a
handler of their own with the short `settings.CALLBACK_MIDDLEWARE`.

A callback is authenticated by its signature, not by a session or a login: it needs no
session, locale, CSRF, authentication, messages, htmx or login throttling, and at a
collection period's peak the callbacks are most of the requests. The same URLs and views
serve both handlers (the test client goes through the full one), so what a callback does
does not depend on the handler; only the work around it is less."""

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils import translation
from django.utils.module_loading import import_string


class CallbackHandler(WSGIHandler):
    """Django's WSGI handler with `settings.CALLBACK_MIDDLEWARE` in place of MIDDLEWARE. With
    no LocaleMiddleware, each callback runs in the site's language (LANGUAGE_CODE), not in
    whatever language the thread's last request left active: what it writes (a payment's
    note, a receipt's lines) reads the same whichever thread took it."""

    def get_response(self, request):
        with translation.override(settings.LANGUAGE_CODE):
            return super().get_response(request)

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.CALLBACK_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def application_with_callbacks(default: WSGIHandler):
    """A WSGI application sending `settings.CALLBACK_PATHS` to a `CallbackHandler` and
    everything else to `default`."""
    callbacks = CallbackHandler()
    prefixes = tuple(settings.CALLBACK_PATHS)

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return callbacks(environ, start_response)
        return default(environ, start_response)

    return application
