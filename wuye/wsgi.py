import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
os.environ.setdefault("WUYE_PROCESS", "web")  # the short database time limits (settings.py)
_django = get_wsgi_application()

from wuye.core.callbacks import application_with_callbacks  # noqa: E402 (after setup)

# the payment notify endpoints with a short middleware list (see wuye/core/callbacks.py)
application = application_with_callbacks(_django)
