"""On PostgreSQL the database itself keeps the books honest (DESIGN.md §4):

- UPDATE and DELETE of journal entries and postings are refused (posted is posted);
- at commit, a deferred constraint trigger refuses an entry whose postings do not balance, that
  has fewer than two postings, or whose postings carry another estate or date than the entry.

The entry's own trigger checks every entry inserted in the transaction once. A posting's
trigger checks its entry only when the posting was not inserted by the same (sub)transaction
as the entry (equal `xmin`), i.e. when someone adds lines to an existing entry; so an entry of
k postings costs k index lookups and one sum, not k sums.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger % rows are append-only: post a reversal instead of %',
        TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_check_entry() RETURNS trigger AS $$
DECLARE
    eid bigint;
    n integer;
    dr numeric;
    cr numeric;
    strays integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_posting' THEN
        eid := NEW.entry_id;
        PERFORM 1 FROM ledger_journalentry e, ledger_posting p
            WHERE e.id = eid AND p.id = NEW.id AND e.xmin = p.xmin;
        IF FOUND THEN
            RETURN NULL;  -- inserted together with its entry: the entry's trigger checks it
        END IF;
    ELSE
        eid := NEW.id;
    END IF;
    SELECT count(p.id), coalesce(sum(p.debit), 0), coalesce(sum(p.credit), 0),
           count(p.id) FILTER (WHERE p.estate_id <> e.estate_id OR p.date <> e.date)
        INTO n, dr, cr, strays
        FROM ledger_journalentry e LEFT JOIN ledger_posting p ON p.entry_id = e.id
        WHERE e.id = eid;
    IF n < 2 THEN
        RAISE EXCEPTION 'journal entry % has % posting(s); an entry needs at least two', eid, n
            USING ERRCODE = '23514';
    END IF;
    IF dr <> cr THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits % <> credits %', eid, dr, cr
            USING ERRCODE = '23514';
    END IF;
    IF strays > 0 THEN
        RAISE EXCEPTION 'journal entry % has postings of another estate or date', eid
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_journalentry_append_only
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_posting_append_only
    BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry();
CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_journalentry_append_only ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_check_entry();
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_chart_of_accounts")]
    operations = [migrations.RunPython(forward, backward)]
