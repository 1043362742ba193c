"""The bank transfers page: the estate switcher, and a transfer whose memo names nobody posted
to a unit picked from a search, the memo left as the bank wrote it (issue 13 §4)."""

from django.urls import reverse

from wuye.payments.models import Payment


def test_a_transfer_without_reference_is_posted_to_a_unit_found_by_search(
    client, cashier, owner, unit, charges, estate, other_estate, make_staff
):
    client.force_login(cashier)
    url = reverse("online:transfer_post")
    advice = {"memo": "物业费 1-1-301 张", "amount": "250.60", "bank_ref": "B0001"}
    # when the cashier searches the owner's name, the advice typed so far comes along
    page = client.get(url, {"estate": estate.pk, "find": "张伟", **advice})
    body = page.content.decode()
    assert page.status_code == 200
    assert f'id="pick-unit-{unit.pk}"' in body and "1-1-301" in body and owner.payment_ref in body
    assert 'value="B0001"' in body
    # and posts it to the unit picked
    done = client.post(f"{url}?estate={estate.pk}", {**advice, "unit": unit.pk})
    assert done.status_code == 302
    payment = Payment.objects.get(channel="transfer")
    assert (payment.party_id, payment.unit_id, str(payment.amount)) == (owner.pk, unit.pk, "250.60")
    assert payment.note == "物业费 1-1-301 张"  # the memo is the bank's, not edited to name anyone
    assert payment.receipt is not None


def test_without_reference_or_pick_nothing_posts_and_the_advice_stays(
    client, cashier, owner, unit, charges, estate
):
    client.force_login(cashier)
    url = reverse("online:transfer_post")
    page = client.post(
        f"{url}?estate={estate.pk}", {"memo": "物业费", "amount": "250.60", "bank_ref": "B0002"}
    )
    body = page.content.decode()
    assert not Payment.objects.exists()
    assert "no payment reference" in body and 'value="B0002"' in body


def test_a_unit_of_another_estate_cannot_be_picked(client, cashier, estate, other_estate):
    from wuye.registry.models import Building, Unit

    b = Building.objects.create(estate=other_estate, code="9", name="9栋")
    theirs = Unit.objects.create(estate=other_estate, building=b, number="9-1-101")
    client.force_login(cashier)
    url = reverse("online:transfer_post")
    data = {"memo": "", "amount": "10.00", "bank_ref": "B0003", "unit": theirs.pk}
    assert client.post(f"{url}?estate={estate.pk}", data).status_code == 404
    assert not Payment.objects.exists()


def test_the_transfers_page_switches_estate(client, make_staff, estate, other_estate):
    both = make_staff("finance", estates=[estate, other_estate])
    client.force_login(both)
    url = reverse("online:transfer_post")
    page = client.get(url, {"estate": other_estate.pk}).content.decode()
    assert 'id="estate-switcher"' in page
    assert f'<option value="{other_estate.pk}" selected>' in page
    assert f'action="{url}?estate={other_estate.pk}"' in page
