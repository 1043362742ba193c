from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("not yet built", status=501)


estate_list = estate_detail = unit_list = unit_create = unit_detail = unit_edit = _todo
party_list = party_create = party_detail = party_edit = party_reveal = note_add = _todo
contract_edit = _todo
