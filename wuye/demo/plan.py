"""The demo company as plain data: estates, buildings, units, people, who owns or rents what, the
notes staff wrote, the contracts and the staff logins. No database here: `seed.py` writes it.

Every list is built from a fixed seed (`SEED`), one random stream per estate and area, so the
same code gives the same company on every machine and a later area (fees, billing) does not
shift the people of an earlier one.

The company, 鹏安物业服务有限公司, manages three estates (about 2,900 units):

- 华苑小区 HY, 深圳南山: 8 residential buildings from 2013/2016, 包干制 with a late-fee clause.
- 丽景花园 LJ, 广州天河: 15 mid- and high-rise buildings from 2019/2021, 酬金制 with a clause.
- 翠湖商住楼 CH, 深圳福田: 3 towers on a shopping podium, an underground garage with parking
  spaces and storage rooms, handed over 2024/2025; its contract has no late-fee clause.
"""

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from . import identities

SEED = 20260101
DEMO_PASSWORD = "wuye-demo-2026"
COMPANY = "鹏安物业服务有限公司"
LATE_FEE_DAILY_RATE = Decimal("0.0003")  # 萬分之三 per day
LATE_FEE_GRACE_DAYS = 15
LATE_FEE_CAP_RATIO = Decimal("1.0")


def rng_for(*parts: object) -> random.Random:
    """A random stream of its own for one estate and area (str seeds are hashed with SHA-512,
    so this is stable across Python runs and machines)."""
    return random.Random(":".join(str(p) for p in (SEED, *parts)))


# --- estates, buildings, contracts ----------------------------------------------------------
@dataclass(frozen=True)
class BuildingPlan:
    """A building and how its units are laid out."""

    code: str
    name: str
    floors: int
    handover: date
    kind: str = "residential"  # residential | shops | garage
    entrances: int = 1
    per_floor: int = 0
    first_floor: int = 1
    # Gross area of each stack (position on the floor), before a small per-building variation.
    stack_areas: tuple[float, ...] = ()
    duplex_top: bool = False  # top-floor flats are duplexes (复式), larger


@dataclass(frozen=True)
class ContractPlan:
    number: str
    signed_on: date
    start_date: date
    end_date: date
    pricing_mode: str  # lump_sum | commission
    commission_rate: Decimal | None
    has_late_fee_clause: bool


@dataclass(frozen=True)
class EstatePlan:
    code: str
    name: str
    address: str
    hotline: str
    company_name: str
    city: str  # as written in company names, e.g. 深圳市
    area_code: str  # landline prefix
    region: str  # county code where local companies are registered
    vacant_share: float
    renovating_share: float
    buildings: tuple[BuildingPlan, ...]
    contract: ContractPlan


def _hy() -> EstatePlan:
    slab = dict(
        floors=18,
        entrances=2,
        per_floor=4,
        stack_areas=(89.56, 128.42, 126.85, 91.30),
        duplex_top=True,
        handover=date(2013, 12, 28),
    )
    tower = dict(
        floors=32,
        entrances=1,
        per_floor=6,
        first_floor=2,  # 架空层 on the ground floor
        stack_areas=(68.75, 89.12, 98.64, 99.10, 88.47, 69.30),
        handover=date(2016, 6, 30),
    )
    return EstatePlan(
        code="HY",
        name="华苑小区",
        address="深圳市南山区南油大道华苑路1号",
        hotline="0755-86001234",
        company_name=COMPANY,
        city="深圳市",
        area_code="0755",
        region="440305",
        vacant_share=0.06,
        renovating_share=0.01,
        buildings=tuple(
            [BuildingPlan(code=str(n), name=f"{n}栋", **slab) for n in range(1, 7)]
            + [BuildingPlan(code=str(n), name=f"{n}栋", **tower) for n in (7, 8)]
        ),
        contract=ContractPlan(
            number="HY-WY-2024-001",
            signed_on=date(2023, 11, 20),
            start_date=date(2024, 1, 1),
            end_date=date(2026, 12, 31),
            pricing_mode="lump_sum",
            commission_rate=None,
            has_late_fee_clause=True,
        ),
    )


def _lj() -> EstatePlan:
    mid_rise = dict(
        floors=11,
        entrances=2,
        per_floor=2,
        stack_areas=(143.20, 138.75),
        duplex_top=True,
        handover=date(2019, 9, 30),
    )
    high_rise = dict(
        floors=26,
        entrances=1,
        per_floor=4,
        first_floor=2,
        stack_areas=(78.36, 105.90, 108.25, 76.80),
        handover=date(2021, 12, 20),
    )
    return EstatePlan(
        code="LJ",
        name="丽景花园",
        address="广州市天河区天府路188号",
        hotline="020-38801234",
        company_name=f"{COMPANY}广州分公司",
        city="广州市",
        area_code="020",
        region="440106",
        vacant_share=0.10,
        renovating_share=0.02,
        buildings=tuple(
            [BuildingPlan(code=str(n), name=f"{n}栋", **mid_rise) for n in range(1, 13)]
            + [BuildingPlan(code=str(n), name=f"{n}栋", **high_rise) for n in (13, 14, 15)]
        ),
        contract=ContractPlan(
            number="LJ-WY-2025-001",
            signed_on=date(2025, 6, 10),
            start_date=date(2025, 7, 1),
            end_date=date(2028, 6, 30),
            pricing_mode="commission",
            commission_rate=Decimal("0.1000"),
            has_late_fee_clause=True,
        ),
    )


def _ch() -> EstatePlan:
    tower = dict(
        floors=28,
        entrances=1,
        per_floor=4,
        first_floor=3,  # floors 1-2 are the shopping podium
        stack_areas=(72.18, 95.66, 118.40, 86.25),
        handover=date(2024, 12, 28),
    )
    return EstatePlan(
        code="CH",
        name="翠湖商住楼",
        address="深圳市福田区翠湖路66号",
        hotline="0755-83001234",
        company_name=COMPANY,
        city="深圳市",
        area_code="0755",
        region="440304",
        vacant_share=0.18,
        renovating_share=0.08,
        buildings=(
            BuildingPlan(code="1", name="1栋", **tower),
            BuildingPlan(code="2", name="2栋", **tower),
            BuildingPlan(code="3", name="3栋", **tower),
            BuildingPlan(
                code="S", name="商业裙楼", floors=2, kind="shops", handover=date(2025, 3, 1)
            ),
            BuildingPlan(
                code="P", name="地下车库", floors=2, kind="garage", handover=date(2025, 3, 1)
            ),
        ),
        contract=ContractPlan(
            number="CH-WY-2024-001",
            signed_on=date(2024, 9, 15),
            start_date=date(2024, 10, 1),
            end_date=date(2027, 9, 30),
            pricing_mode="lump_sum",
            commission_rate=None,
            has_late_fee_clause=False,
        ),
    )


@cache
def estates() -> tuple[EstatePlan, ...]:
    return (_hy(), _lj(), _ch())


# --- units ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitPlan:
    building_code: str
    number: str
    entrance: str
    floor: int
    gross_area: Decimal
    unit_type: str
    handover_date: date
    fee_start_date: date
    occupancy: str


def _area(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _month_after(day: date) -> date:
    """Fees start on the first day of the month after handover (交房次月起計費)."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _occupancy(rng: random.Random, estate: EstatePlan) -> str:
    roll = rng.random()
    if roll < estate.renovating_share:
        return "renovating"
    if roll < estate.renovating_share + estate.vacant_share:
        return "vacant"
    return "occupied"


def _residential(rng: random.Random, estate: EstatePlan, b: BuildingPlan) -> list[UnitPlan]:
    stacks = [a + rng.uniform(-2.5, 2.5) for a in b.stack_areas]
    units = []
    for entrance in range(1, b.entrances + 1):
        for floor in range(b.first_floor, b.floors + 1):
            for pos, area in enumerate(stacks, start=1):
                if b.duplex_top and floor == b.floors:
                    area = min(area * 1.42, 179.6)
                handover = b.handover + timedelta(days=int(rng.expovariate(1 / 40)) % 400)
                units.append(
                    UnitPlan(
                        building_code=b.code,
                        number=f"{b.code}-{entrance}-{floor}{pos:02d}",
                        entrance=str(entrance),
                        floor=floor,
                        gross_area=_area(area),
                        unit_type="residential",
                        handover_date=handover,
                        fee_start_date=_month_after(handover),
                        occupancy=_occupancy(rng, estate),
                    )
                )
    return units


def _shops(rng: random.Random, estate: EstatePlan, b: BuildingPlan) -> list[UnitPlan]:
    units = []
    for floor, count in ((1, 32), (2, 24)):
        for pos in range(1, count + 1):
            # street shops are small, a few anchors on the second floor are large
            area = rng.uniform(40, 120) if floor == 1 else rng.choice((80, 150, 220, 298))
            area = min(area + rng.uniform(0, 2), 300)
            units.append(
                UnitPlan(
                    building_code=b.code,
                    number=f"{b.code}-1-{floor}{pos:02d}",
                    entrance="1",
                    floor=floor,
                    gross_area=_area(area),
                    unit_type="commercial",
                    handover_date=b.handover,
                    fee_start_date=_month_after(b.handover),
                    occupancy=_occupancy(rng, estate),
                )
            )
    return units


def _garage(rng: random.Random, estate: EstatePlan, b: BuildingPlan) -> list[UnitPlan]:
    """Parking spaces (12.50 m² each) on B1 and B2, storage rooms (储藏室) on B1. Occupancy
    is settled with the owners (an unsold space is vacant)."""
    units = []
    for level, spaces, stores in (("B1", 180, 64), ("B2", 220, 0)):
        floor = -int(level[1])
        for n in range(1, spaces + 1):
            units.append(
                UnitPlan(
                    building_code=b.code,
                    number=f"{b.code}-{level}-{n:03d}",
                    entrance=level,
                    floor=floor,
                    gross_area=Decimal("12.50"),
                    unit_type="parking",
                    handover_date=b.handover,
                    fee_start_date=_month_after(b.handover),
                    occupancy="vacant",
                )
            )
        for n in range(1, stores + 1):
            units.append(
                UnitPlan(
                    building_code=b.code,
                    number=f"{b.code}-{level}-C{n:03d}",
                    entrance=level,
                    floor=floor,
                    gross_area=_area(rng.uniform(4.5, 12)),
                    unit_type="storage",
                    handover_date=b.handover,
                    fee_start_date=_month_after(b.handover),
                    occupancy="vacant",
                )
            )
    return units


@cache
def _layout(estate_code: str) -> tuple[UnitPlan, ...]:
    estate = estate_by_code(estate_code)
    rng = rng_for("units", estate.code)
    make = {"residential": _residential, "shops": _shops, "garage": _garage}
    out: list[UnitPlan] = []
    for b in estate.buildings:
        out.extend(make[b.kind](rng, estate, b))
    return tuple(out)


@cache
def units(estate_code: str) -> tuple[UnitPlan, ...]:
    """The units of one estate. A parking space or storage room is in use when it has an owner;
    an unsold one stays vacant and has no owner."""
    owned = {r.unit_number for r in people(estate_code).relations}
    return tuple(
        replace(u, occupancy="occupied" if u.number in owned else "vacant")
        if u.unit_type in ("parking", "storage")
        else u
        for u in _layout(estate_code)
    )


def estate_by_code(code: str) -> EstatePlan:
    return next(e for e in estates() if e.code == code)


# --- people ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartyPlan:
    name: str
    mobile: str
    kind: str = "person"
    phone_alt: str = ""
    email: str = ""
    id_number: str = ""
    mailing_address: str = ""
    wechat_openid: str = ""
    preferred_channels: tuple[str, ...] = ()
    consents: tuple[tuple[str, bool], ...] = ()
    payment_ref: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.mobile)


@dataclass(frozen=True)
class RelationPlan:
    unit_number: str
    party: tuple[str, str]  # PartyPlan.key
    role: str  # owner | tenant
    start_date: date
    end_date: date | None = None
    is_payer: bool = False


@dataclass(frozen=True)
class NotePlan:
    party: tuple[str, str]
    unit_number: str
    category: str
    text: str
    author: str  # a staff username
    visible_to: tuple[str, ...] = ()


@dataclass
class People:
    parties: list[PartyPlan] = field(default_factory=list)
    relations: list[RelationPlan] = field(default_factory=list)
    notes: list[NotePlan] = field(default_factory=list)


CHANNEL_HABITS: list[tuple[tuple[str, ...], int]] = [
    (("wechat", "sms"), 45),
    (("sms",), 18),
    (("app", "wechat", "sms"), 10),
    (("sms", "letter"), 8),
    (("wechat",), 7),
    (("email", "sms"), 6),
    ((), 6),  # never asked
]
AWAY_ADDRESSES = [
    "湖南省长沙市岳麓区麓山南路32号",
    "江西省南昌市东湖区八一大道101号",
    "湖北省武汉市武昌区中南路7号",
    "广东省梅州市梅江区江南路15号",
    "四川省成都市武侯区人民南路四段12号",
    "香港九龙旺角弥敦道600号",
]
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# A few things staff learned about owners (unit index in the shuffled occupied flats, category,
# author, who may read, text).
NOTES = {
    "HY": [
        ("hardship", "customer_service", ("collector", "customer_service", "supervisor"),
         "业主反映今年3月失业，目前靠积蓄生活，愿意分期缴纳物业费，请催收同事先沟通分期方案。"),
        ("house_quality", "engineering", (),
         "主卧外墙渗水，已于2026年5月派单维修，工程部跟进中；业主以此为由暂缓缴费。"),
        ("sensitive", "customer_service", ("customer_service", "supervisor", "collector"),
         "业主曾就停车管理投诉至街道办，沟通时注意态度，建议由客服主管陪同上门。"),
    ],
    "LJ": [
        ("hardship", "customer_service", ("collector", "customer_service", "supervisor"),
         "业主配偶重病住院，家庭开支紧张，请暂缓催缴电话，12月后再联系。"),
        ("house_quality", "engineering", (),
         "卫生间楼板漏水至楼下，仍在开发商保修期内，已报开发商工程部处理。"),
        ("away", "customer_service", (),
         "业主长期在国外工作，房屋空置，请优先通过微信联系，纸质通知寄其父母家。"),
    ],
    "CH": [
        ("house_quality", "engineering", (),
         "入户门变形无法正常关闭，已登记保修，预计2026年12月前更换。"),
        ("hardship", "customer_service", ("collector", "customer_service", "supervisor"),
         "商铺经营困难，租户已退租，业主申请物业费分期，待主管审批。"),
    ],
}  # fmt: skip


class _PeopleMaker:
    """Makes the parties of one estate, never repeating a mobile number or payment reference."""

    def __init__(self, estate: EstatePlan, used_mobiles: set[str], used_refs: set[str]):
        self.estate = estate
        self.rng = rng_for("people", estate.code)
        self.used_mobiles = used_mobiles
        self.used_refs = used_refs

    def _mobile(self) -> str:
        while True:
            number = identities.mobile(self.rng)
            if number not in self.used_mobiles:
                self.used_mobiles.add(number)
                return number

    def _payment_ref(self) -> str:
        while True:
            ref = "WY" + "".join(self.rng.choice(_REF_ALPHABET) for _ in range(8))
            if ref not in self.used_refs:
                self.used_refs.add(ref)
                return ref

    def address_of(self, unit: UnitPlan) -> str:
        b, entrance, room = unit.number.split("-")
        where = f"{b}栋{entrance}单元{room}" if unit.unit_type == "residential" else unit.number
        return f"{self.estate.address}{self.estate.name}{where}"

    def person(self, *, mailing_address: str, born: tuple[int, int] = (1955, 1998)) -> PartyPlan:
        rng = self.rng
        male = rng.random() < 0.55
        phone_alt = ""
        if rng.random() < 0.22:
            if rng.random() < 0.6:
                phone_alt = self._mobile()  # a family member's mobile
            else:
                phone_alt = identities.landline(rng, self.estate.area_code)
        channels = rng.choices(
            [c for c, _ in CHANNEL_HABITS], weights=[w for _, w in CHANNEL_HABITS]
        )[0]
        consents = tuple((c, not (c == "sms" and rng.random() < 0.05)) for c in channels)
        email = ""
        if "email" in channels or rng.random() < 0.2:
            email = f"{rng.randint(10**5, 10**10 - 1)}@qq.com"
        return PartyPlan(
            name=identities.person_name(rng, male=male),
            mobile=self._mobile(),
            phone_alt=phone_alt,
            email=email,
            id_number=identities.id_number(rng, male=male, born_between=born),
            mailing_address=mailing_address,
            wechat_openid=identities.wechat_openid(rng) if "wechat" in channels else "",
            preferred_channels=channels,
            consents=consents,
            payment_ref=self._payment_ref(),
        )

    def company(self, *, mailing_address: str) -> PartyPlan:
        rng = self.rng
        return PartyPlan(
            name=identities.company_name(rng, city=self.estate.city),
            kind="company",
            mobile=self._mobile(),  # the contact person's mobile
            phone_alt=identities.landline(rng, self.estate.area_code),
            email=f"caiwu{rng.randint(100, 999999)}@163.com",
            id_number=identities.uscc(rng, region=self.estate.region),
            mailing_address=mailing_address,
            preferred_channels=("email", "letter"),
            consents=(("email", True), ("letter", True)),
            payment_ref=self._payment_ref(),
        )


def _date_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _estate_people(estate: EstatePlan, used_mobiles: set[str], used_refs: set[str]) -> People:
    maker = _PeopleMaker(estate, used_mobiles, used_refs)
    rng = maker.rng
    out = People()
    flats = [u for u in _layout(estate.code) if u.unit_type == "residential"]
    owner_of: dict[str, PartyPlan] = {}

    def own(unit: UnitPlan, party: PartyPlan, start: date, end: date | None = None) -> None:
        out.relations.append(RelationPlan(unit.number, party.key, "owner", start, end))

    # Flats: one owner each; about 3% of owners hold a second flat (an investor).
    for unit in flats:
        investor = owner_of and rng.random() < 0.03
        if investor:
            party = owner_of[rng.choice(list(owner_of))]
        else:
            away = unit.occupancy == "vacant" and rng.random() < 0.5
            address = rng.choice(AWAY_ADDRESSES) if away else maker.address_of(unit)
            party = maker.person(mailing_address=address)
            out.parties.append(party)
        owner_of[unit.number] = party
        own(unit, party, unit.handover_date)

    # Tenants: about 5% of the occupied flats are let, most tenants pay the fees themselves.
    for unit in flats:
        if unit.occupancy == "occupied" and rng.random() < 0.05:
            tenant = maker.person(mailing_address=maker.address_of(unit), born=(1980, 2002))
            out.parties.append(tenant)
            start = _date_between(rng, max(unit.handover_date, date(2023, 1, 1)), date(2026, 9, 1))
            out.relations.append(
                RelationPlan(unit.number, tenant.key, "tenant", start, is_payer=rng.random() < 0.8)
            )

    # Transfers in 2026: the old owner's ownership ends the day before the new owner's begins.
    let = {r.unit_number for r in out.relations if r.role == "tenant"}
    sellable = [u for u in flats if u.number not in let and u.occupancy == "occupied"]
    transferred: set[str] = set()
    for unit in rng.sample(sellable, 2 if estate.code == "CH" else 3):
        on = _date_between(rng, date(2026, 1, 15), date(2026, 10, 31))
        old = owner_of[unit.number]
        out.relations = [
            RelationPlan(r.unit_number, r.party, r.role, r.start_date, on - timedelta(days=1))
            if r.unit_number == unit.number and r.party == old.key
            else r
            for r in out.relations
        ]
        new = maker.person(mailing_address=maker.address_of(unit))
        out.parties.append(new)
        own(unit, new, on)
        owner_of[unit.number] = new
        transferred.add(unit.number)

    _commercial(maker, out, owner_of)

    # Notes on owners of occupied flats that were not just sold.
    candidates = [u for u in sellable if u.number not in transferred]
    for unit, (category, author, visible_to, text) in zip(
        rng.sample(candidates, len(NOTES[estate.code])), NOTES[estate.code], strict=True
    ):
        party = owner_of[unit.number]
        out.notes.append(NotePlan(party.key, unit.number, category, text, author, visible_to))
    return out


def _commercial(maker: _PeopleMaker, out: People, owner_of: dict[str, PartyPlan]) -> None:
    """Shops (some owned by companies, many let to companies that pay), and parking spaces and
    storage rooms bought by the flat owners; unsold ones stay without an owner."""
    rng = maker.rng
    estate = maker.estate
    flat_owners = list(owner_of.values())
    for unit in _layout(estate.code):
        if unit.unit_type == "commercial":
            address = maker.address_of(unit)
            owner = (
                maker.company(mailing_address=address)
                if rng.random() < 0.4
                else maker.person(mailing_address=rng.choice(AWAY_ADDRESSES + [address]))
            )
            out.parties.append(owner)
            out.relations.append(RelationPlan(unit.number, owner.key, "owner", unit.handover_date))
            if unit.occupancy == "occupied" and rng.random() < 0.55:
                tenant = maker.company(mailing_address=address)
                out.parties.append(tenant)
                start = _date_between(rng, unit.fee_start_date, date(2026, 6, 30))
                out.relations.append(
                    RelationPlan(unit.number, tenant.key, "tenant", start, is_payer=True)
                )
        elif unit.unit_type in ("parking", "storage"):
            sold = rng.random() < (0.6 if unit.unit_type == "parking" else 0.7)
            if sold:
                owner = rng.choice(flat_owners)
                start = _date_between(rng, unit.handover_date, date(2026, 3, 31))
                out.relations.append(RelationPlan(unit.number, owner.key, "owner", start))


@cache
def _all_people() -> dict[str, People]:
    used_mobiles: set[str] = set()
    used_refs: set[str] = set()
    return {e.code: _estate_people(e, used_mobiles, used_refs) for e in estates()}


def people(estate_code: str) -> People:
    """The parties, relations and notes of one estate (made for all estates together, so that
    mobile numbers and payment references never repeat across the company)."""
    return _all_people()[estate_code]


# --- staff ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StaffPlan:
    username: str
    role: str
    last_name: str
    first_name: str


STAFF: tuple[StaffPlan, ...] = (
    StaffPlan("cashier", "cashier", "李", "娜"),
    StaffPlan("collector", "collector", "王", "强"),
    StaffPlan("customer_service", "customer_service", "陈", "静"),
    StaffPlan("engineering", "engineering", "刘", "建国"),
    StaffPlan("security", "security", "赵", "刚"),
    StaffPlan("finance", "finance", "周", "敏"),
    StaffPlan("supervisor", "supervisor", "黄", "志明"),
    StaffPlan("auditor", "auditor", "吴", "蕾"),
)
