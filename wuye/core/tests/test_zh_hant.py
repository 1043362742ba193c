"""zh-hant reads as Taiwan / Hong Kong staff write it (issue 13 §4): phrase-level conversion
plus the reviewed glossary, not character-converted mainland terms."""

import polib
from django.utils import translation

from wuye.core.i18n_sync import LOCALE, to_hant


def test_the_conversion_uses_taiwan_words_and_keeps_the_trade_terms():
    assert to_hant("登录") == "登入"
    assert to_hant("工作台") == "工作台"
    assert to_hant("对账单") == "對帳單"
    assert to_hant("导入单元表") == "匯入單元表"
    assert to_hant("短信") == "簡訊"
    # what s2twp alone gets wrong for a property office
    assert to_hant("收费项目") == "收費項目"
    assert to_hant("收费窗口") == "收費櫃檯"
    assert to_hant("权限") == "權限"
    assert to_hant("原因代码") == "原因代碼"
    assert to_hant("感谢您的支持") == "感謝您的支持"


def test_the_compiled_catalogue_has_no_mainland_wording_left():
    hant = polib.pofile(str(LOCALE / "zh_Hant/LC_MESSAGES/django.po"))
    text = "\n".join(e.msgstr for e in hant if "manual" not in e.flags)
    for mainland in ("登錄", "工作臺", "對賬", "專案", "視窗", "許可權", "程式碼"):
        assert mainland not in text, mainland


def test_the_pages_speak_taiwan_wording():
    with translation.override("zh-hant"):
        assert translation.gettext("Log in") == "登入"
        assert translation.gettext("Dashboard") == "工作台"
        assert translation.gettext("Statement of account") == "對帳單"
