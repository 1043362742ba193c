"""A zip bomb uploaded as meter readings is refused at once, with the reason."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.core.tests.bombs import bomb_xlsx
from wuye.fees.models import MeterReading

pytestmark = pytest.mark.django_db


def test_the_import_page_refuses_a_bomb_and_says_why(client, finance, estate):
    client.force_login(finance)
    upload = SimpleUploadedFile("readings.xlsx", bomb_xlsx(40))
    response = client.post(reverse("fees:reading_import"), {"estate": estate.pk, "file": upload})
    assert response.status_code == 200 and "would expand from" in response.content.decode()
    assert not MeterReading.objects.exists()
