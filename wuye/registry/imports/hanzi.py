"""Traditional characters read as simplified ones, for the words an import understands.

Offices in Hong Kong, Macau and Taiwan, and staff who type on a traditional-character
system, write 樓棟, 單元, 房號, 建築面積, 商鋪, 裝修: these are the same columns and words as
楼栋, 单元, 房号, 建筑面积, 商铺, 装修. Headers, sheet names, building and entrance cells and
the closed lists of words (types, states) are compared after `simplified()`; the text a
person typed (names, addresses) is kept as written.

The table covers every character of the import's vocabulary that OpenCC's s2t, s2tw and
s2hk conversions change (a test checks it against OpenCC, which is a development
dependency only: a character table needs no runtime library)."""

_TRADITIONAL = "備儲別單層庫態數棟業樓機權狀產碼稱積築絡編總繳聯號裝計訊話證費車郵鋪開間雜電類繫係"
_SIMPLIFIED = "备储别单层库态数栋业楼机权状产码称积筑络编总缴联号装计讯话证费车邮铺开间杂电类系系"
_T2S = str.maketrans(_TRADITIONAL, _SIMPLIFIED)


def simplified(text: str) -> str:
    """`樓棟` -> `楼栋`; characters outside the import's vocabulary are left as they are."""
    return text.translate(_T2S)
