"""Mounted at /owner/: the owners' portal, and the staff's list of owners' requests."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("large/", views.large_type, name="large"),
    path("pay/", views.pay, name="pay"),
    path("orders/<str:out_trade_no>/", views.order, name="order"),
    path("orders/<str:out_trade_no>/cancel/", views.order_cancel, name="order_cancel"),
    path("statement/", views.statement, name="statement"),
    path("receipts/", views.receipts, name="receipts"),
    path("receipts/<int:pk>.pdf", views.receipt_download, name="receipt"),
    path("requests/", views.requests, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("messages/", views.consents, name="consents"),
    path("staff/requests/", views.staff_requests, name="staff_requests"),
    path("staff/requests/<int:pk>/", views.staff_request, name="staff_request"),
]
