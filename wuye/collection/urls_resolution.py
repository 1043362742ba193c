"""Staff pages of the resolution paths, under /collection/ (namespace `resolution`)."""

from django.urls import path

from . import views_resolution as v

app_name = "resolution"

urlpatterns = [
    path("cases/<int:case_id>/resolution/", v.case_resolution, name="case"),
    path("plans/", v.plan_list, name="plan_list"),
    path("plans/<int:pk>/", v.plan_detail, name="plan"),
    path("plans/<int:pk>/agreement.pdf", v.plan_agreement, name="plan_agreement"),
    path("plans/<int:pk>/signed/", v.plan_signed, name="plan_signed"),
    path("disputes/", v.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/", v.dispute_detail, name="dispute"),
    path("work-orders/", v.work_order_list, name="work_order_list"),
    path("work-orders/<int:pk>/", v.work_order_detail, name="work_order"),
    path("demands/", v.demand_list, name="demand_list"),
    path("demands/<int:pk>/", v.demand_detail, name="demand"),
    path("demands/<int:pk>/<str:what>/", v.demand_file, name="demand_file"),
    path("demands/batch/<int:pk>.pdf", v.demand_batch_file, name="demand_batch"),
    path("legal/", v.legal_list, name="legal_list"),
    path("legal/<int:pk>/", v.legal_detail, name="legal"),
    path("legal/<int:pk>/evidence.zip", v.legal_evidence, name="legal_evidence"),
    path("limitation/", v.limitation_list, name="limitation"),
]
