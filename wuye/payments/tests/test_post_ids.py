"""A money page's form posted with an id that is no id (hand-edited, or missing) answers
"not found", never a server error (issue 12 §8): refund payouts, the approval queue, the
invoice queue."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["payments:payout_list", "payments:reversal_queue", "payments:invoice_queue"]
)
@pytest.mark.parametrize("value", ["abc", "1e3", "", None, "99999999999999999999999"])
def test_a_posted_id_that_is_no_id_is_not_found(client, supervisor, name, value):
    client.force_login(supervisor)
    data = {"decision": "approve", "channel": "cash"}
    if value is not None:
        data["id"] = value
    response = client.post(reverse(name), data)
    assert response.status_code == 404, response.content[:300]
