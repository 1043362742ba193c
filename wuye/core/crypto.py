"""Encryption at rest for personal identifiers (ID numbers, bank account numbers), with
Fernet (AES-128-CBC + HMAC).

Keys come from FIELD_ENCRYPTION_KEY, comma-separated: the first encrypts, every one decrypts
(MultiFernet), so a key is rotated by putting the new one first, running `wuye
rotate-field-key` (re-encrypts every value with it) and dropping the old one afterwards.
Production refuses to start without a key (settings.py): a key derived from SECRET_KEY would
turn every ID number unreadable the day SECRET_KEY is rotated. A value that no key decrypts
is an error, never an empty string: an empty string would be saved back over the number."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import connection, models, transaction


class FieldDecryptionError(Exception):
    """A stored value that none of the configured keys decrypts."""


def derived_key(secret: str) -> str:
    """The demo's and the tests' key, derived from SECRET_KEY (never in production)."""
    digest = hashlib.sha256(("wuye-field-encryption:" + secret).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    keys = keys or (derived_key(secret),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees plaintext. Not searchable by design."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise FieldDecryptionError(
                f"{self.model._meta.label}.{self.name}: a stored value cannot be decrypted "
                "with any key of FIELD_ENCRYPTION_KEY (was the key replaced? put the old key "
                "after the new one, comma-separated)"
            ) from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return fernet().encrypt(value.encode()).decode()


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored encrypted."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def field_key_rotate(*, chunk: int = 500) -> dict[str, int]:
    """Re-encrypt every stored value with the first key (MultiFernet.rotate); safe to run
    again. The ciphertext is read and written as it is stored (raw SQL with quoted names),
    so no plaintext passes through a model. Returns the values rewritten per model field."""
    done = {}
    for model, name in encrypted_fields():
        quote = connection.ops.quote_name
        table, pk_col = quote(model._meta.db_table), quote(model._meta.pk.column)
        col = quote(model._meta.get_field(name).column)
        select = f"SELECT {pk_col}, {col} FROM {table} WHERE {col} <> '' AND {pk_col} > %s ORDER BY {pk_col}"  # noqa: S608, E501 (quoted names only)
        update = f"UPDATE {table} SET {col} = %s WHERE {pk_col} = %s"  # noqa: S608
        count, last = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"{select} LIMIT {int(chunk)}", [last])
                rows = cursor.fetchall()
                for pk, token in rows:
                    cursor.execute(update, [fernet().rotate(token.encode()).decode(), pk])
            if not rows:
                break
            count += len(rows)
            last = rows[-1][0]
        done[f"{model._meta.label}.{name}"] = count
    return done
