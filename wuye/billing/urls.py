from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_new, name="run_new"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/preview/", views.run_preview, name="run_preview"),
    path("runs/<int:pk>/post/", views.run_post, name="run_post"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("charges/", views.charge_list, name="charge_list"),
    path("charges/new/", views.charge_new, name="charge_new"),
    path("charges/<int:pk>/", views.charge_detail, name="charge_detail"),
    path("charges/<int:pk>/credit-note/", views.charge_credit_note, name="charge_credit_note"),
    path("charges/<int:pk>/debit-note/", views.charge_debit_note, name="charge_debit_note"),
    path(
        "charges/<int:pk>/deposit-release/",
        views.deposit_release_request,
        name="deposit_release_request",
    ),
    path("charges/<int:charge_pk>/waive/", views.waiver_request, name="waiver_request"),
    path("waivers/", views.waiver_list, name="waiver_list"),
    path("waivers/<int:pk>/decide/", views.waiver_decide, name="waiver_decide"),
    path("deposits/", views.deposit_list, name="deposit_list"),
    path("deposits/<int:pk>/decide/", views.deposit_decide, name="deposit_decide"),
    path("fee-stops/", views.fee_stops, name="fee_stops"),
    path("periods/", views.periods, name="periods"),
    path("late-fees/", views.late_fees, name="late_fees"),
    path("opening/", views.opening_import, name="opening_import"),
    path("statements/<int:party_pk>/", views.statement, name="statement"),
    path("statements/<int:party_pk>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("notices/<int:party_pk>/<str:period>/pdf/", views.notice_pdf, name="notice_pdf"),
]
