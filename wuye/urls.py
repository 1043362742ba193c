from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from wuye import views as core_views

# Each app owns its `urls.py` (staff UI) and `api.py` `urlpatterns` (REST under /api/v1/).
api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", core_views.ApiDocs.as_view(url_name="api:schema"), name="docs"),
    path("", include("wuye.registry.api")),
    path("", include("wuye.accounts.api")),
    path("", include("wuye.ledger.api")),
    path("", include("wuye.fees.api")),
    path("", include("wuye.billing.api")),
    path("", include("wuye.notifications.api")),
    path("", include("wuye.payments.api")),
    path("", include("wuye.payments.api_settings")),
    path("", include("wuye.online.api")),
    path("", include("wuye.online.api_setup")),
    path("", include("wuye.portal.api")),
    path("", include("wuye.collection.api_resolution")),
    path("", include("wuye.collection.api")),
    path("", include("wuye.reports.api")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("wuye.accounts.urls")),
    path("registry/", include("wuye.registry.urls")),
    path("audit/", include("wuye.accounts.urls_audit")),
    path("staff/", include("wuye.accounts.urls_staff")),
    path("jobs/", include("wuye.scheduler.urls")),
    path("ledger/", include("wuye.ledger.urls")),
    path("fees/", include("wuye.fees.urls")),
    path("billing/", include("wuye.billing.urls")),
    path("notifications/", include("wuye.notifications.urls")),
    path("payments/", include("wuye.payments.urls")),
    path("collection/", include("wuye.collection.urls")),
    path("collection/", include("wuye.collection.urls_resolution")),
    path("collection/", include("wuye.collection.urls_workbench")),
    path("reports/", include("wuye.reports.urls")),
    # The public receipt check behind each receipt's QR code (/r/<token>/).
    path("", include("wuye.payments.urls_public")),
    # Provider callbacks (/pay/notify/wechat, /pay/notify/alipay) and the sandbox gateway.
    path("pay/", include("wuye.online.urls")),
    # The owners' portal (mobile H5).
    path("owner/", include("wuye.portal.urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("django-admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "wuye.views.bad_request"
handler403 = "wuye.views.permission_denied"
handler404 = "wuye.views.page_not_found"
handler500 = "wuye.views.server_error"
