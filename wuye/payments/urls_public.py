"""The public receipt verification page at the site root, `/r/<token>/` (short, for QR codes).
The lead includes it in wuye/urls.py: path("", include("wuye.payments.urls_public"))."""

from django.urls import path

from . import views

urlpatterns = [path("r/<str:token>/", views.receipt_verify, name="receipt_verify")]
