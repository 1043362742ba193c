"""Plausible, made-up people and companies for the demo: Chinese names, mobile numbers, resident
ID numbers and unified social credit codes, each with a valid check character.

Everything takes a `random.Random`, so the same seed gives the same people. Nothing here touches
the database. The numbers are synthetic: they pass the checksums, and any match with a real
person is chance.
"""

import random
from datetime import date, timedelta

# Common surnames, weighted roughly by frequency, with the southern ones (陈, 黄, 林, 梁, ...)
# a little heavier, as in Guangdong.
SURNAMES: list[tuple[str, int]] = [
    ("陈", 40), ("李", 38), ("王", 36), ("张", 34), ("刘", 30), ("黄", 28), ("林", 20),
    ("杨", 20), ("吴", 16), ("赵", 14), ("周", 14), ("梁", 14), ("郑", 12), ("徐", 12),
    ("孙", 10), ("何", 10), ("罗", 10), ("谢", 9), ("马", 9), ("朱", 9), ("胡", 9), ("郭", 9),
    ("高", 8), ("许", 8), ("曾", 8), ("邓", 8), ("冯", 7), ("叶", 7), ("蔡", 7), ("钟", 7),
    ("宋", 6), ("唐", 6), ("韩", 6), ("曹", 6), ("彭", 6), ("萧", 5), ("潘", 5), ("田", 5),
    ("董", 5), ("袁", 5), ("于", 5), ("余", 5), ("蒋", 5), ("杜", 5), ("苏", 5), ("魏", 5),
    ("程", 4), ("吕", 4), ("丁", 4), ("沈", 4), ("任", 4), ("姚", 4), ("卢", 4), ("傅", 3),
    ("姜", 3), ("崔", 3), ("谭", 4), ("廖", 4), ("范", 3), ("汪", 3), ("陆", 3), ("金", 3),
    ("石", 3), ("戴", 3), ("贾", 3), ("韦", 3), ("夏", 3), ("邱", 3), ("方", 3), ("侯", 3),
    ("邹", 3), ("熊", 3), ("孟", 2), ("秦", 2), ("白", 2), ("江", 3), ("薛", 2), ("尹", 2),
    ("段", 2), ("雷", 2), ("黎", 3), ("史", 2), ("龙", 2), ("陶", 2), ("贺", 2), ("顾", 2),
    ("毛", 2), ("龚", 2), ("邵", 2), ("万", 2), ("严", 2), ("赖", 3), ("洪", 2), ("温", 2),
    ("莫", 2), ("欧阳", 1), ("司马", 1),
]  # fmt: skip
MALE_CHARS = "伟强磊军洋勇杰涛明超辉华鹏刚斌宇浩俊峰建国志文海波林东晨鑫凯阳振飞健博嘉豪卫平德荣锋"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲英婷慧燕萍红雪琳颖晶佳欣怡梅倩丹璐蕾思雨莉诗婉月洁琴蓉"

# Mobile prefixes of the three carriers (CMCC, Unicom, Telecom), all 1[3-9]x.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "172", "176", "177", "178", "180", "181",
    "182", "183", "184", "185", "186", "187", "188", "189", "191", "195", "198", "199",
)  # fmt: skip

# Where owners were born (county-level codes of GB/T 2260), weighted: local first, then the
# provinces that move to the Pearl River Delta.
BIRTH_REGIONS: list[tuple[str, int]] = [
    ("440305", 10), ("440304", 8), ("440303", 6), ("440106", 8), ("440104", 6), ("440111", 4),
    ("441302", 4), ("445202", 4), ("440513", 4), ("441402", 4), ("440606", 3), ("440402", 2),
    ("430104", 5), ("430602", 3), ("431002", 2), ("360102", 3), ("360702", 2), ("420106", 4),
    ("421002", 2), ("410103", 3), ("411302", 2), ("510107", 3), ("500103", 3), ("350203", 2),
    ("350102", 2), ("450102", 3), ("452501", 2), ("110105", 2), ("310115", 2), ("320106", 1),
    ("610113", 1), ("370102", 1), ("220102", 1), ("230102", 1), ("340104", 2), ("330106", 1),
]  # fmt: skip

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

COMPANY_BRANDS = (
    "嘉禾", "鑫隆", "百顺", "鸿运", "瑞丰", "永盛", "天和", "宏达",
    "佳禾", "万福", "金穗", "新航", "悦达", "启明", "华信", "和润",
)  # fmt: skip
COMPANY_TRADES = [
    "餐饮管理",
    "商贸",
    "医药连锁",
    "教育咨询",
    "美容美发",
    "便利店",
    "房地产经纪",
    "烘焙食品",
    "口腔门诊",
    "洗衣服务",
]


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def person_name(rng: random.Random, *, male: bool) -> str:
    """A surname and a one- or two-character given name, e.g. 陈嘉豪, 黄静."""
    chars = MALE_CHARS if male else FEMALE_CHARS
    given = rng.choice(chars)
    if rng.random() < 0.72:
        given += rng.choice(chars)
    return _weighted(rng, SURNAMES) + given


def mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number, 1[3-9]xxxxxxxxx."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area_code: str) -> str:
    """A landline such as 0755-26881234 (8 digits, not starting with 0 or 1)."""
    return f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"


def id_check_char(first17: str) -> str:
    """The check character of an 18-digit resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(number: str) -> bool:
    return (
        len(number) == 18
        and number[:17].isdigit()
        and id_check_char(number[:17]) == number[17].upper()
    )


def id_number(rng: random.Random, *, male: bool, born_between: tuple[int, int]) -> str:
    """An 18-digit resident ID number: region, birth date, sequence (odd for men), check."""
    first, last = born_between
    start = date(first, 1, 1)
    born = start + timedelta(days=rng.randrange((date(last, 12, 31) - start).days))
    sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{_weighted(rng, BIRTH_REGIONS)}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def uscc_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100)."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    return (
        len(code) == 18
        and all(c in _USCC_ALPHABET for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )


def uscc(rng: random.Random, *, region: str) -> str:
    """A unified social credit code of a company registered in `region` (e.g. 440305)."""
    organisation = "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    first17 = f"91{region}{organisation}"
    return first17 + uscc_check_char(first17)


def company_name(rng: random.Random, *, city: str) -> str:
    """e.g. 深圳市鑫隆餐饮管理有限公司."""
    return f"{city}{rng.choice(COMPANY_BRANDS)}{rng.choice(COMPANY_TRADES)}有限公司"


def wechat_openid(rng: random.Random) -> str:
    """The shape of a WeChat official-account openid: 28 characters starting with `o`."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "o" + "".join(rng.choice(alphabet) for _ in range(27))
