"""Fill the zh-hant catalogue from the zh-hans one, for every entry that a person has not
translated by hand (entries marked with the `manual` flag are left alone).

Conversion is phrase-level (OpenCC `s2twp`: Taiwan characters *and* Taiwan vocabulary:
登入, 匯入, 列印, 簡訊, 檔案, 資料, 設定), then `GLOSSARY`, the reviewed corrections where
s2twp's general-purpose phrases are wrong for a property office's money pages (it turns a fee
item 收費項目 into a "project" 專案 and the cashier window into a screen window 視窗). Each
correction says why. Run by `make messages`; zh-hans is the catalogue people maintain."""

from pathlib import Path

import opencc
import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"

# (what s2twp wrote, what a Taiwan / Hong Kong property office writes), applied in order.
GLOSSARY: tuple[tuple[str, str], ...] = (
    # 项目 is a fee item (收費項目) or an estate (項目), never a "project".
    ("專案", "項目"),
    # The cashier window is a counter, not a screen window.
    ("收費視窗", "收費櫃檯"),
    ("視窗", "櫃檯"),
    # Accounts, bills and statements are written with 帳 (對帳單, 帳戶, 轉帳, 入帳).
    ("賬", "帳"),
    # 工作台 / 平台 / 後台 as written in Taiwan and Hong Kong, not the formal 臺.
    ("工作臺", "工作台"),
    ("平臺", "平台"),
    ("後臺", "後台"),
    # 类型 is a kind of record (類型); 型別 is a programming "type".
    ("型別", "類型"),
    # 权限 is a permission (權限); s2twp's 許可權 reads as "licence rights".
    ("許可權", "權限"),
    # 代码 is a code (reason code, result code), not program source code.
    ("程式碼", "代碼"),
    # 参数 is a parameter (參數), 引數 only a function argument.
    ("引數", "參數"),
    # A background worker process is 程序 / 行程 in Taiwan; keep 進程 readable as 程序.
    ("任務程式", "任務程序"),
    # "Thank you for your support" keeps 支持 (支援 means technical support).
    ("感謝您的支援", "感謝您的支持"),
    # The audit log's subject is a record (對象), not a programming object.
    ("物件", "對象"),
    # Bookkeeping offsets and reversals are written with 沖 (沖正, 紅字沖減, 沖抵, 沖銷, 沖帳);
    # 衝 stays where it means a clash (衝突).
    ("衝正", "沖正"),
    ("衝減", "沖減"),
    ("衝抵", "沖抵"),
    ("衝銷", "沖銷"),
    ("衝帳", "沖帳"),
    ("衝回", "沖回"),
)


def to_hant(text: str, converter=None) -> str:
    """zh-hans -> zh-hant as a Taiwan / Hong Kong office reads it (s2twp + GLOSSARY)."""
    converter = converter or opencc.OpenCC("s2twp")
    out = converter.convert(text)
    for wrong, right in GLOSSARY:
        out = out.replace(wrong, right)
    return out


def main() -> None:
    converter = opencc.OpenCC("s2twp")
    hans = polib.pofile(str(LOCALE / "zh_Hans/LC_MESSAGES/django.po"))
    hant_path = LOCALE / "zh_Hant/LC_MESSAGES/django.po"
    hant = polib.pofile(str(hant_path))
    # a fuzzy zh-hans entry is makemessages' guess from a similar msgid, not a translation
    simplified = {
        (e.msgctxt, e.msgid): e
        for e in hans
        if (e.msgstr or e.msgstr_plural) and "fuzzy" not in e.flags
    }
    filled = 0
    for entry in hant:
        if "manual" in entry.flags:
            continue
        source = simplified.get((entry.msgctxt, entry.msgid))
        if source is None:
            continue
        if source.msgstr:
            entry.msgstr = to_hant(source.msgstr, converter)
        for k, v in source.msgstr_plural.items():
            entry.msgstr_plural[k] = to_hant(v, converter)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        filled += 1
    hant.save(str(hant_path))
    print(f"zh-hant: {filled} entries converted from zh-hans")


if __name__ == "__main__":
    main()
