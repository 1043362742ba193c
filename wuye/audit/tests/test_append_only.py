import pytest
from django.db import connection, transaction

from wuye.audit.models import AppendOnlyError, AuditEvent
from wuye.audit.services import audit_record


@pytest.mark.django_db
def test_an_audit_event_cannot_be_edited_or_deleted_through_the_orm():
    # given
    event = audit_record(actor=None, action=AuditEvent.Action.OTHER, summary="something")
    # when / then
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "something"


@pytest.mark.django_db
def test_postgresql_refuses_raw_updates_and_deletes_of_audit_rows():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = audit_record(actor=None, action=AuditEvent.Action.OTHER, summary="kept")
    for sql in (
        "UPDATE audit_auditevent SET summary = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).summary == "kept"
