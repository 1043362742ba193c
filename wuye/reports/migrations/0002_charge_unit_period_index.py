"""An index on the charges (unit, period) for the reports' recomputation of a (building,
period): the charges of a building's units in one period are read through it. Billing's own
indexes serve its runs and the window; this one is the reports' (docs/adr/0009)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("billing", "0004_charge_no_db_fk_left"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_charge_unit_period ON billing_charge "
            "(unit_id, period)",
            "DROP INDEX IF EXISTS reports_charge_unit_period",
        ),
    ]
