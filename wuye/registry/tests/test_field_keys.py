"""ID numbers at rest: several keys for rotation, an unreadable value is an error (never an
empty string saved back over the number), and production does not start without a key."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from wuye.core.crypto import FieldDecryptionError
from wuye.registry.models import Party

pytestmark = pytest.mark.django_db
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_key_is_rotated_without_losing_an_id_number(settings, owner):
    # given ID numbers written with the old key
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    owner.save()
    # when the new key is put first, the old one kept after it
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    # then the number still reads, and after `wuye rotate-field-key` the new key alone reads it
    assert Party.objects.get(pk=owner.pk).id_number == "44030119800101123X"
    call_command("rotate-field-key", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert Party.objects.get(pk=owner.pk).id_number == "44030119800101123X"


def test_a_number_no_key_reads_is_an_error_not_an_empty_string(settings, owner):
    # given the number was written with a key that is then lost
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    owner.save()
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    # then reading it fails loudly (a blank read would be saved back over the number)
    with pytest.raises(FieldDecryptionError, match="registry.Party.id_number"):
        Party.objects.get(pk=owner.pk)


def _start(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("WUYE_DEMO", "FIELD_ENCRYPTION_KEY")}
    return subprocess.run(
        [sys.executable, "-c", "import wuye.settings"],
        env={**base, "DEBUG": "false", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_key():
    refused = _start()
    assert refused.returncode != 0 and "FIELD_ENCRYPTION_KEY is not set" in refused.stderr
    assert _start(FIELD_ENCRYPTION_KEY=f"{NEW},{OLD}").returncode == 0
    assert _start(DEBUG="true").returncode == 0
