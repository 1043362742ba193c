"""On PostgreSQL the receivables subledger refuses to be rewritten, as the ledger does
(DESIGN.md §4; ledger migration 0003): charges, payments, allocations and receipts refuse
DELETE, and UPDATE of the columns that say how much money, whose, and where it went. What a
service may still change is left open: a charge's cached `outstanding`, status and cancellation;
a payment's status (void) and its entry link; a receipt's void marks and print count.
The comparisons are IS DISTINCT FROM, so a full-row `save()` that writes the same values
passes. TRUNCATE (a test database's flush) is not a row trigger and is not refused."""

from django.db import migrations

# table -> the columns that never change once written
FROZEN = {
    "billing_charge": ["amount", "estate_id", "unit_id", "fee_item_id", "kind"],
    "payments_payment": [
        "amount",
        "allocated",
        "prepaid",
        "rounded_off",
        "channel",
        "estate_id",
        "party_id",
        "business_date",
    ],
    "payments_allocation": ["amount", "payment_id", "charge_id", "estate_id", "reverses_id"],
    "payments_receipt": ["payment_id", "estate_id", "year", "number", "lines"],
}


def _function(table: str, columns: list[str]) -> str:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    return f"""
CREATE OR REPLACE FUNCTION {table}_refuse_rewrite() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{table} rows are never deleted: post a reversal instead'
            USING ERRCODE = '23514';
    END IF;
    IF {changed} THEN
        RAISE EXCEPTION '{table} %: its money columns never change; post a reversal instead',
            OLD.id USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_rewrite();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, columns in FROZEN.items():
            schema_editor.execute(_function(table, columns), params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in FROZEN:
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}; "
                f"DROP FUNCTION IF EXISTS {table}_refuse_rewrite();",
                params=None,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_paymenteffect"),
        ("billing", "0006_alter_waiver_status"),
    ]
    operations = [migrations.RunPython(forward, backward)]
