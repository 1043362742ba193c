"""The project's URLs with the jobs page at /jobs/, whether or not wuye/urls.py includes it yet
(the first `scheduler` namespace wins when reversing)."""

from django.urls import include, path

urlpatterns = [
    path("jobs/", include("wuye.scheduler.urls")),
    path("", include("wuye.urls")),
]
