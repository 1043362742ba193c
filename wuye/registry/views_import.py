"""Import and export pages (placeholder until the import work lands)."""

from django.http import HttpResponse


def import_start(request):
    return HttpResponse("import: not yet built", status=501)


def import_confirm(request, token):
    return HttpResponse("import: not yet built", status=501)


def export(request, kind):
    return HttpResponse("export: not yet built", status=501)
