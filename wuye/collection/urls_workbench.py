"""The collector's workbench and the supervisor's escalation queue, under /collection/
(namespace `workbench`)."""

from django.urls import path

from . import views_workbench as v

app_name = "workbench"

urlpatterns = [
    path("workbench/", v.home, name="home"),
    path("tasks/<int:pk>/", v.task, name="task"),
    path("cases/<int:pk>/contact/", v.log_contact, name="log_contact"),
    path("cases/<int:pk>/escalate/", v.escalate, name="escalate"),
    path("cases/<int:pk>/reason/", v.reason, name="reason"),
    path("escalations/", v.escalations, name="escalations"),
    path("escalations/<int:pk>/", v.escalation, name="escalation"),
]
