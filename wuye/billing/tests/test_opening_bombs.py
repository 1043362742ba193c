"""A zip bomb uploaded as opening balances is refused at once, with the reason."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wuye.billing import services
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.tests.bombs import bomb_xlsx

pytestmark = pytest.mark.django_db


def test_the_service_refuses_a_bomb(finance, estate):
    with pytest.raises(DomainError, match="would expand from"):
        services.opening_balances_import(actor=finance, estate=estate, content=bomb_xlsx(40))


def test_the_page_refuses_a_bomb_and_says_why(client, finance, estate):
    client.force_login(finance)
    response = client.post(
        "/billing/opening/",
        {"estate": estate.pk, "file": SimpleUploadedFile("old.xlsx", bomb_xlsx(40))},
        follow=True,
    )
    assert response.status_code == 200 and "would expand from" in response.content.decode()
    assert not Charge.objects.exists()
