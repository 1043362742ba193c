from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from wuye.audit.selectors import audit_events
from wuye.core.params import query_date
from wuye.registry.selectors import visible_estate_ids


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def audit_list(request):
    events = audit_events(
        estate_ids=visible_estate_ids(request.user),
        actor=request.GET.get("actor", ""),
        action=request.GET.get("action", ""),
        subject_type=request.GET.get("subject_type", ""),
        date_from=query_date(request.GET, "from"),
        date_to=query_date(request.GET, "to"),
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    from wuye.audit.models import AuditEvent

    return render(request, "audit/list.html", {"page": page, "actions": AuditEvent.Action.choices})
