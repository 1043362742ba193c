import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
os.environ.setdefault("WUYE_PROCESS", "web")  # the short database time limits (settings.py)
application = get_asgi_application()
