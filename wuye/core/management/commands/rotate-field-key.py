"""`wuye rotate-field-key`: re-encrypt ID numbers and account numbers with the first key of
FIELD_ENCRYPTION_KEY (wuye/core/crypto.py). Put the new key first, run this, then drop the
old key."""

from django.core.management.base import BaseCommand

from wuye.core.crypto import field_key_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        for field, count in field_key_rotate().items():
            self.stdout.write(f"{field}: {count} re-encrypted")
