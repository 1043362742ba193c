from wuye.core.net import client_ip  # noqa: F401  (re-exported: portal)

from . import context


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = "api" if request.path.startswith("/api/") else "web"
        request_id = request.META.get("HTTP_X_REQUEST_ID") or None
        ctx = context.AuditContext(ip=client_ip(request), source=source)
        if request_id:
            ctx = context.AuditContext(ip=ctx.ip, source=source, request_id=request_id[:64])
        token = context.bind(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = ctx.request_id
        return response
