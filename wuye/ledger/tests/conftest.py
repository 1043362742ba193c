import itertools
from datetime import date

import pytest

from wuye.ledger.services import entry_post

from .helpers import billing_lines

_keys = itertools.count(1)


@pytest.fixture
def post():
    """post(estate, amount="100.00", day=date(2026, 3, 1), key=None, lines=None) -> entry."""

    def _post(estate, amount="100.00", day=date(2026, 3, 1), key=None, lines=None, **kw):
        return entry_post(
            estate=estate,
            date=day,
            memo=kw.pop("memo", "2026-03 物业费"),
            lines=lines or billing_lines(amount, kw.pop("party_id", None)),
            idempotency_key=key or f"test-{next(_keys)}",
            **kw,
        )

    return _post
