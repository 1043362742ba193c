from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("journal/", views.journal, name="journal"),
    path("journal/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("export/", views.voucher_export, name="export"),
    path("periods/", views.period_list, name="periods"),
]
