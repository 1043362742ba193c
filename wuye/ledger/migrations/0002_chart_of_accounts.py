"""The accounts of the chart (wuye.ledger.chart.ACCOUNTS). Accounts added to the chart later are
created after every migrate (LedgerConfig.ready) and on first use by `entry_post`."""

from django.db import migrations


def forward(apps, schema_editor):
    from wuye.ledger.chart import ACCOUNTS

    Account = apps.get_model("ledger", "Account")
    Account.objects.bulk_create(
        [
            Account(
                code=code,
                name=name,
                kind=kind,
                parent=code.rsplit(".", 1)[0] if "." in code else "",
            )
            for code, (name, kind) in ACCOUNTS.items()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
