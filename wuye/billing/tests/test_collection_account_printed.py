"""The estate's collection account, set by finance on its page, is printed on the payment
notice and the statement with the owner's payment reference."""

from datetime import date

import pytest

from .test_views_api import pdf_text

pytestmark = pytest.mark.django_db


def test_finance_sets_the_account_and_the_payment_notice_prints_it(
    client, finance, owner, property_fee, bill, tmp_path
):
    bill("2026-12", as_of=date(2026, 12, 1))
    client.force_login(finance)
    # before: no account on the notice
    text = pdf_text(client.get(f"/billing/notices/{owner.pk}/2026-12/pdf/").content, tmp_path)
    assert "账号" not in text
    # when finance sets the estate's collection account on its page
    response = client.post(
        f"/registry/estates/{owner.estate_id}/account/",
        {
            "bank_name": "中国工商银行深圳南山支行",
            "bank_account_name": "华苑物业服务有限公司",
            "bank_account_number": "4000-0200-0900-1234-567",
        },
    )
    assert response.status_code == 302
    # then the notice and the statement print it, next to the payment reference
    text = pdf_text(client.get(f"/billing/notices/{owner.pk}/2026-12/pdf/").content, tmp_path)
    assert "华苑物业服务有限公司" in text and "中国工商银行深圳南山支行" in text
    assert "4000 0200 0900 1234 567" in text and owner.payment_ref in text
    statement = pdf_text(client.get(f"/billing/statements/{owner.pk}/pdf/").content, tmp_path)
    assert "4000 0200 0900 1234 567" in statement
