"""Default templates: the bill notice, three reminder tones (friendly, firmer, formal) and the
one-time code, in simplified Chinese, traditional Chinese and English."""

from django.db import migrations

from wuye.notifications.defaults import TEMPLATES, templates_ensure_defaults


def seed(apps, schema_editor):
    templates_ensure_defaults(apps.get_model("notifications", "MessageTemplate"))


def unseed(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code, _purpose, language, _subject, _body in TEMPLATES:
        MessageTemplate.objects.filter(
            code=code, channel="", language=language, version=1, messages__isnull=True
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
