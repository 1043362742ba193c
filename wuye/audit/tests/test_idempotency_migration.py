"""Upgrading to keys held by a `holder` keeps every record: a staff retry sent across the
upgrade still replays, and the owners' app records move from the portal's old table with
their time (so the purge still forgets them on schedule). Downgrading keeps them too."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from wuye.audit.idempotency import IdempotencyRecord

from .test_idempotency import call, written

BEFORE = [("audit", "0003_idempotency_record"), ("portal", "0002_owner_app_tokens")]
LONG_AGO = timezone.now() - timedelta(days=3)


def migrate(targets) -> object:
    """Migrate to `targets` and return the apps (historical models) as they are there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_records_of_staff_and_owners_survive_the_move_to_holders_and_back():
    clerk = get_user_model().objects.create_user(username="clerk", password="x-unused-x")
    # given a staff write sent with a key, and an owner app's record, three days old
    first = call(clerk, {"summary": "paid at the window"}, key="k-1")
    IdempotencyRecord.objects.create(
        holder="owner:13800000001",
        key="tap-1",
        method="POST",
        path="/api/v1/owner/orders",
        fingerprint="f" * 64,
        status=201,
        body='{"out_trade_no": "W1"}',
    )
    IdempotencyRecord.objects.update(created_at=LONG_AGO)
    try:
        # when downgraded, they are kept: the staff one by user, the owner's in the portal's table
        old = migrate(BEFORE)
        staff = old.get_model("audit", "IdempotencyRecord").objects.get()
        assert (staff.user_id, staff.key, staff.status) == (clerk.pk, "k-1", 201)
        owner = old.get_model("portal", "OwnerIdempotencyRecord").objects.get()
        assert (owner.phone, owner.key, owner.body) == (
            "13800000001",
            "tap-1",
            '{"out_trade_no": "W1"}',
        )
        assert owner.created_at == LONG_AGO
        # when upgraded again
        migrate(latest())
        # then both records are back, held by the user and by the phone, with their time
        rows = IdempotencyRecord.objects.order_by("holder").values_list(
            "holder", "key", "status", "created_at"
        )
        assert list(rows) == [
            ("owner:13800000001", "tap-1", 201, LONG_AGO),
            (f"user:{clerk.pk}", "k-1", 201, LONG_AGO),
        ]
        # and the staff client's retry replays the first answer without writing again
        again = call(clerk, {"summary": "paid at the window"}, key="k-1")
        assert again["Idempotent-Replayed"] == "true" and again.data == first.data
        assert written() == 1
    finally:
        migrate(latest())
