"""Amounts in Chinese capital numerals (大寫金額), as receipts and vouchers print them.

The convention is the one of the Ministry of Finance's 会计基础工作规范 (art. 52) and the
PBoC's 支付结算办法 appendix:

- digits 零壹贰叁肆伍陆柒捌玖, places 拾佰仟, groups 万亿, then 元角分;
- a ten is written 壹拾 even at the start (10 -> 壹拾元整), so nothing can be added in front;
- zeros inside a number are written as one 零 (1,000,005 -> 壹佰万零伍元整); zeros that end a
  group of four are not read (101,000 -> 壹拾万壹仟元整);
- a zero yuan digit before a non-zero jiao is not written (100.10 -> 壹佰元壹角整, which the
  rules allow), but a zero jiao before a non-zero fen is (1.05 -> 壹元零伍分);
- 整 follows an amount that ends at 元 or 角, never one that ends at 分;
- zero is 零元整; a negative amount starts with 负.

Pure: no Django, no database. `traditional=True` gives the traditional characters
(貳 陸 萬 億 負 元) used in Hong Kong, Macau and Taiwan documents.
"""

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ["", "拾", "佰", "仟"]
GROUPS = ["", "万", "亿", "万亿"]
_TRADITIONAL = str.maketrans({"贰": "貳", "陆": "陸", "万": "萬", "亿": "億", "负": "負"})
MAX = Decimal("9999999999999999.99")  # 万亿 groups: 16 integer digits


def amount_in_words(value: Decimal | int | str, *, traditional: bool = False) -> str:
    """`Decimal("1234.50")` -> `壹仟贰佰叁拾肆元伍角整` (see the module docstring)."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass Decimal, int or str")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(amount) > MAX:
        raise ValueError(f"amount too large to write in words: {value}")
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    words = _integer_words(yuan)
    if words:
        words += "元"
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        if words and not jiao:
            words += "零"
        words += DIGITS[fen] + "分"
    if not words:
        words = "零元"
    if not fen:
        words += "整"
    words = sign + words
    return words.translate(_TRADITIONAL) if traditional else words


def _integer_words(number: int) -> str:
    """The yuan part: groups of four digits read with 万/亿, one 零 for each run of zeros
    inside a number, nothing for zeros that end a group."""
    if number == 0:
        return ""
    digits = str(number)
    out: list[str] = []
    pending_zero = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index
        digit = int(char)
        if digit == 0:
            pending_zero = bool(out)
        else:
            if pending_zero:
                out.append("零")
            pending_zero = False
            out.append(DIGITS[digit] + PLACES[position % 4])
        if position % 4 == 0 and position > 0:
            group = digits[max(0, index - 3) : index + 1]
            if int(group):
                out.append(GROUPS[position // 4])
                pending_zero = False
    return "".join(out)
