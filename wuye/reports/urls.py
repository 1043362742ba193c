from django.urls import path

from . import views, views_tables

app_name = "reports"

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("drill/", views.drill, name="drill"),
    path("tables/", views_tables.table_index, name="tables"),
    path("tables/<slug:name>/", views_tables.table_page, name="table"),
    path("tables/<slug:name>/xlsx/", views_tables.table_export, name="table_export"),
    path("collection-report/", views_tables.collection_report, name="collection_report"),
]
