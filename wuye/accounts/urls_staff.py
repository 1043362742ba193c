from django.urls import path

from . import views_staff as views

app_name = "staff"
urlpatterns = [
    path("", views.staff_list, name="list"),
    path("new/", views.staff_create, name="new"),
    path("<int:pk>/", views.staff_edit, name="edit"),
    path("<int:pk>/password/", views.staff_password, name="password"),
    path("<int:pk>/<str:action>/", views.staff_action, name="action"),
]
