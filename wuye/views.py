from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from wuye.accounts.roles import roles_of


@login_required
def home(request):
    from wuye.registry.selectors import estates_for

    estates = estates_for(request.user)
    return render(request, "core/home.html", {"estates": estates, "roles": roles_of(request.user)})
