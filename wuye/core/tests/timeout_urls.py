"""Views that run into the database's time limits (test_timeouts.py)."""

from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny


def _slow():
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '50ms'")
                cursor.execute("SELECT pg_sleep(2)")
        else:  # SQLite's busy timeout ran out while another writer held the file
            raise OperationalError("database is locked")
    return HttpResponse("done")


def slow_page(request):
    return _slow()


@api_view(["GET"])
@permission_classes([AllowAny])
def slow_api(request):
    return _slow()


urlpatterns = [
    path("slow/", slow_page),
    path("api/v1/slow/", slow_api),
    path("", include("wuye.urls")),  # the pages the error page links to
]
