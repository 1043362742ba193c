"""Every setup page opens for its role and reads in Chinese (zh-hans, what the office's
browsers ask for): the Administration menu and the pages' own words are translated."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = {
    "/staff/": ("supervisor", "员工"),
    "/staff/new/": ("supervisor", "新增员工"),
    "/notifications/policy/": ("supervisor", "联系规则"),
    "/notifications/consents/": ("customer_service", "业主授权"),
    "/payments/settings/": ("finance", "预交优惠"),
    "/payments/settings/offers/new/": ("finance", "新增预交优惠"),
    "/fees/meters/": ("finance", "计量表"),
    "/fees/meters/new/": ("finance", "登记计量表"),
    "/pay/merchants/": ("finance", "商户号"),
    "/pay/mandates/": ("finance", "代扣协议"),
    "/pay/mandates/new/": ("cashier", "业主签约代扣"),
    "/registry/estates/new/": ("supervisor", "新增项目"),
}


@pytest.mark.parametrize("url", PAGES)
def test_the_setup_page_opens_in_chinese(client, make_staff, estate, url):
    role, words = PAGES[url]
    client.force_login(make_staff(role, estates=[estate]))
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert words in page
    assert "系统管理" in page  # the Administration menu
