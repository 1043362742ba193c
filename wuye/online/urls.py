"""Mounted at /pay/: the provider notify endpoints, the sandbox gateway, the staff pages."""

from django.urls import path, re_path

from . import views, views_notify, views_sandbox, views_setup

app_name = "online"
urlpatterns = [
    path("notify/wechat", views_notify.notify_wechat, name="notify_wechat"),
    path("notify/alipay", views_notify.notify_alipay, name="notify_alipay"),
    # the sandbox gateway
    path("sandbox/", views_sandbox.tools, name="sandbox_tools"),
    path("sandbox/pay/<str:token>", views_sandbox.pay_page, name="sandbox_pay"),
    path("sandbox/trade/<str:token>.json", views_sandbox.trade_json, name="sandbox_trade"),
    path("sandbox/alipay/gateway.do", views_sandbox.alipay_gateway, name="sandbox_alipay"),
    re_path(r"^sandbox/wechat/(?P<path>v3/.+)$", views_sandbox.wechat_api, name="sandbox_wechat"),
    # staff
    path("orders/", views.order_list, name="order_list"),
    path("exceptions/", views.exception_list, name="exception_list"),
    path("exceptions/<int:pk>/", views.exception_detail, name="exception_detail"),
    path("transfers/", views.transfer_post, name="transfer_post"),
    path("transfers/statements/", views.statement_import, name="statement_import"),
    path("transfers/statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("window/", views.window, name="window"),
    path("window/orders/<int:pk>/", views.window_order, name="window_order"),
    path("autodebit/", views.batch_list, name="batch_list"),
    path("autodebit/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("autodebit/<int:pk>/file", views.batch_file, name="batch_file"),
    # setup
    path("merchants/", views_setup.merchant_list, name="merchant_list"),
    path("merchants/new/", views_setup.merchant_new, name="merchant_new"),
    path("merchants/routes/", views_setup.route_set, name="route_set"),
    path("merchants/<int:pk>/", views_setup.merchant_edit, name="merchant_edit"),
    path("merchants/<int:pk>/test/", views_setup.merchant_test, name="merchant_test"),
    path("mandates/", views_setup.mandate_list, name="mandate_list"),
    path("mandates/new/", views_setup.mandate_new, name="mandate_new"),
    path("mandates/<int:pk>/", views_setup.mandate_detail, name="mandate_detail"),
    path("mandates/<int:pk>/form", views_setup.mandate_form, name="mandate_form"),
]
