from django.urls import path

from . import views, views_import

app_name = "registry"

urlpatterns = [
    path("estates/", views.estate_list, name="estate_list"),
    path("estates/new/", views.estate_create, name="estate_create"),
    path("estates/<int:pk>/", views.estate_detail, name="estate_detail"),
    path("estates/<int:pk>/buildings/new/", views.building_create, name="building_create"),
    path("estates/<int:pk>/contracts/new/", views.contract_create, name="contract_create"),
    path("estates/<int:pk>/edit/", views.estate_edit, name="estate_edit"),
    path("estates/<int:pk>/account/", views.estate_account, name="estate_account"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/parties/", views.unit_party_add, name="unit_party_add"),
    path("parties/", views.party_list, name="party_list"),
    path("parties/new/", views.party_create, name="party_create"),
    path("parties/<int:pk>/", views.party_detail, name="party_detail"),
    path("parties/<int:pk>/edit/", views.party_edit, name="party_edit"),
    path("parties/<int:pk>/reveal/", views.party_reveal, name="party_reveal"),
    path("parties/<int:pk>/notes/", views.note_add, name="note_add"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("import/", views_import.import_start, name="import"),
    path("import/jobs/<int:pk>/", views_import.import_job, name="import_job"),
    path("import/jobs/<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
    path("import/jobs/<int:pk>/discard/", views_import.import_discard, name="import_discard"),
    path("import/jobs/<int:pk>/retry/", views_import.import_retry, name="import_retry"),
    path("export/<str:kind>/", views_import.export, name="export"),
]
