from django.urls import path

from . import views, views_setup

app_name = "notifications"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("letters/", views.letters, name="letters"),
    path("letters/<int:pk>/pdf/", views.letter_batch_pdf, name="letter_batch_pdf"),
    path("policy/", views_setup.contact_policy, name="contact_policy"),
    path("consents/", views_setup.consent_list, name="consent_list"),
    path("consents/<int:party_pk>/", views_setup.party_consents, name="party_consents"),
]
