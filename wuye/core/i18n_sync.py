"""Fill the zh-hant catalogue from the zh-hans one with OpenCC (s2t), for every entry that a
person has not translated by hand (entries marked with the `manual` flag are left alone).

Run by `make messages`; zh-hans is the catalogue people maintain."""

from pathlib import Path

import opencc
import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def main() -> None:
    converter = opencc.OpenCC("s2t")
    hans = polib.pofile(str(LOCALE / "zh_Hans/LC_MESSAGES/django.po"))
    hant_path = LOCALE / "zh_Hant/LC_MESSAGES/django.po"
    hant = polib.pofile(str(hant_path))
    simplified = {(e.msgctxt, e.msgid): e for e in hans if e.msgstr or e.msgstr_plural}
    filled = 0
    for entry in hant:
        if "manual" in entry.flags:
            continue
        source = simplified.get((entry.msgctxt, entry.msgid))
        if source is None:
            continue
        if source.msgstr:
            entry.msgstr = converter.convert(source.msgstr)
        for k, v in source.msgstr_plural.items():
            entry.msgstr_plural[k] = converter.convert(v)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        filled += 1
    hant.save(str(hant_path))
    print(f"zh-hant: {filled} entries converted from zh-hans")


if __name__ == "__main__":
    main()
