from django.urls import path

from . import views, views_settings

app_name = "payments"
urlpatterns = [
    path("", views.window, name="window"),
    path("window/unit/<int:unit_pk>/take/", views.take_payment, name="take_payment"),
    path(
        "window/unit/<int:unit_pk>/apply-prepayment/",
        views.apply_prepayment,
        name="apply_prepayment",
    ),
    path("window/unit/<int:unit_pk>/certificate/", views.settled_certificate, name="certificate"),
    path("list/", views.payment_list, name="payment_list"),
    path("p/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("p/<int:pk>/reverse/", views.reversal_request, name="reversal_request"),
    path("p/<int:pk>/invoice/", views.invoice_request, name="invoice_request"),
    path("p/<int:pk>/invoice/red/", views.invoice_red_note, name="invoice_red_note"),
    path("receipts/<int:pk>/pdf/", views.receipt_pdf, name="receipt_pdf"),
    path("r/<str:token>/", views.receipt_verify, name="receipt_verify"),
    path("shifts/", views.shift_list, name="shift_list"),
    path("shifts/open/", views.shift_open, name="shift_open"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("approvals/", views.reversal_queue, name="reversal_queue"),
    path("payouts/", views.payout_list, name="payout_list"),
    path("invoices/", views.invoice_queue, name="invoice_queue"),
    path("day/", views.day_report, name="day_report"),
    path("settings/", views_settings.window_settings, name="settings"),
    path("settings/offers/new/", views_settings.offer_create, name="offer_new"),
    path("settings/offers/<int:pk>/end/", views_settings.offer_end, name="offer_end"),
]
