"""Idempotency records are held by a `holder` string ("user:<pk>" for staff, "owner:<phone>"
for the owners' app) instead of a staff user FK, so one table serves both APIs.

Existing staff records become "user:<their user id>" and keep replaying. Going back keeps the
staff records and drops those no user holds (a lost replay cache, not data)."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat


def holders_from_users(apps, schema_editor):
    Record = apps.get_model("audit", "IdempotencyRecord")
    Record.objects.update(holder=Concat(Value("user:"), Cast("user_id", CharField())))


def users_from_holders(apps, schema_editor):
    Record = apps.get_model("audit", "IdempotencyRecord")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    users = set(User.objects.values_list("pk", flat=True))
    for pk, holder in Record.objects.values_list("pk", "holder"):
        prefix, _, user_id = holder.partition(":")
        if prefix == "user" and user_id.isdigit() and int(user_id) in users:
            Record.objects.filter(pk=pk).update(user_id=int(user_id))
        else:
            Record.objects.filter(pk=pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_idempotency_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="holder",
            field=models.CharField(default="", max_length=64, verbose_name="key holder"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="user",
            field=models.ForeignKey(
                null=True,
                on_delete=models.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.RunPython(holders_from_users, users_from_holders, elidable=True),
        migrations.RemoveConstraint(
            model_name="idempotencyrecord", name="idempotency_user_key_unique"
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("holder", "key"), name="idempotency_holder_key_unique"
            ),
        ),
        migrations.RemoveField(model_name="idempotencyrecord", name="user"),
    ]
