from django.urls import path

from . import views, views_meters

app_name = "fees"

urlpatterns = [
    path("items/", views.item_list, name="item_list"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/", views.item_edit, name="item_edit"),
    path("standards/", views.standard_list, name="standard_list"),
    path("standards/new/", views.standard_create, name="standard_create"),
    path("standards/<int:pk>/notice.pdf", views.standard_notice, name="standard_notice"),
    path("standards/<int:pk>/<str:action>/", views.standard_action, name="standard_action"),
    path("vacancies/", views.vacancy_list, name="vacancy_list"),
    path("vacancies/new/", views.vacancy_apply, name="vacancy_apply"),
    path("vacancies/<int:pk>/<str:action>/", views.vacancy_action, name="vacancy_action"),
    path("meters/", views_meters.meter_list, name="meter_list"),
    path("meters/new/", views_meters.meter_new, name="meter_new"),
    path("meters/<int:pk>/", views_meters.meter_detail, name="meter_detail"),
    path("readings/", views.reading_list, name="reading_list"),
    path("readings/new/", views.reading_entry, name="reading_entry"),
    path("readings/import/", views.reading_import, name="reading_import"),
    path("readings/<int:pk>/<str:action>/", views.reading_action, name="reading_action"),
    path("apportionments/", views.apportionment_list, name="apportionment_list"),
    path(
        "apportionments/<int:pk>/<str:action>/",
        views.apportionment_action,
        name="apportionment_action",
    ),
]
