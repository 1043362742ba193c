"""Staff pages of the dunning engine under /collection/ (namespace `collection`): the arrears
list and its export, cases, policies and call scripts. The resolution paths have their own
`urls_resolution.py` (namespace `resolution`), the workbench `urls_workbench.py`."""

from django.urls import path

from . import views_arrears, views_cases, views_policies

app_name = "collection"

urlpatterns = [
    path("arrears/", views_arrears.arrears, name="arrears"),
    path("arrears/export.xlsx", views_arrears.arrears_download, name="arrears_export"),
    path("cases/", views_cases.case_list, name="case_list"),
    path("cases/<int:pk>/", views_cases.case_detail, name="case"),
    path("policies/", views_policies.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views_policies.policy_edit, name="policy"),
    path("scripts/", views_policies.script_list, name="script_list"),
    path("scripts/new/", views_policies.script_edit, name="script_new"),
    path("scripts/<int:pk>/", views_policies.script_edit, name="script"),
    path("scripts/training/", views_policies.scripts_training, name="scripts_training"),
]
