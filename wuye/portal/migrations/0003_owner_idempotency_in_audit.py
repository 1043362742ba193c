"""The owners' app keeps its `Idempotency-Key` records in the audit app's table (holder
"owner:<phone>"), the one the staff API uses: the portal's own table goes, its records moved
across so that a retry sent across the upgrade still replays."""

from django.db import migrations

PREFIX = "owner:"
FIELDS = ("key", "method", "path", "fingerprint", "status", "body", "created_at")


def _copy(schema_editor, *, source, target, holder_column, holder_value, where):
    # INSERT ... SELECT keeps created_at (the ORM would stamp auto_now_add with now).
    q = schema_editor.quote_name
    columns = ", ".join(q(f) for f in FIELDS)
    schema_editor.execute(
        f"INSERT INTO {q(target._meta.db_table)} ({q(holder_column)}, {columns}) "
        f"SELECT {holder_value}, {columns} FROM {q(source._meta.db_table)} WHERE {where}",
        None,
    )


def to_audit(apps, schema_editor):
    q = schema_editor.quote_name
    _copy(
        schema_editor,
        source=apps.get_model("portal", "OwnerIdempotencyRecord"),
        target=apps.get_model("audit", "IdempotencyRecord"),
        holder_column="holder",
        holder_value=f"'{PREFIX}' || {q('phone')}",
        where=f"{q('status')} > 0",
    )


def from_audit(apps, schema_editor):
    q = schema_editor.quote_name
    Audit = apps.get_model("audit", "IdempotencyRecord")
    _copy(
        schema_editor,
        source=Audit,
        target=apps.get_model("portal", "OwnerIdempotencyRecord"),
        holder_column="phone",
        holder_value=f"SUBSTR({q('holder')}, {len(PREFIX) + 1})",
        where=f"SUBSTR({q('holder')}, 1, {len(PREFIX)}) = '{PREFIX}'",
    )
    Audit.objects.filter(holder__startswith=PREFIX).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_owner_app_tokens"),
        ("audit", "0004_idempotency_record_holder"),
    ]

    operations = [
        migrations.RunPython(to_audit, from_audit, elidable=True),
        migrations.DeleteModel(name="OwnerIdempotencyRecord"),
    ]
