"""Other localities: a resident who asks for the phone or the hours of "UBND xã Quỳnh Lưu bên
Nghệ An" asks about another office, not ours.

The ward's office intents (its phone, address, hours) are answered with the ward profile's
facts, so a question about another locality's office must not reach them. The names below are
Vietnam's provinces (the 63 before the 2025 merger, which residents still use, and the merged
ones' names are among them) and its larger cities, folded as `normalize` folds them. Names that
fold like everyday words or people's names are left out (Huế/Huệ, Vinh/Vĩnh, Điện Biên/diễn
biến, Thái Nguyên/thai + Nguyễn). The ward's own province and name (the catalogue's ward
profile) are never another locality.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from app.matching.normalize import normalize

PLACES = (
    # Provinces and centrally-run cities
    "ha noi", "tp hcm", "tphcm", "hcm", "ho chi minh", "sai gon", "hai phong", "da nang",
    "can tho", "ha giang", "cao bang", "bac kan", "bac can", "tuyen quang", "lao cai",
    "yen bai", "lai chau", "son la", "hoa binh", "lang son", "quang ninh", "bac giang",
    "phu tho", "vinh phuc", "bac ninh", "hai duong", "hung yen", "thai binh", "ha nam",
    "nam dinh", "ninh binh", "thanh hoa", "nghe an", "ha tinh", "quang binh", "quang tri",
    "thua thien", "quang nam", "quang ngai", "binh dinh", "phu yen", "khanh hoa",
    "ninh thuan", "binh thuan", "kon tum", "gia lai", "dak lak", "daklak", "dac lac",
    "dak nong", "lam dong", "binh phuoc", "tay ninh", "binh duong", "dong nai", "ba ria",
    "vung tau", "long an", "tien giang", "ben tre", "tra vinh", "vinh long", "dong thap",
    "an giang", "kien giang", "hau giang", "soc trang", "bac lieu", "ca mau",
    # Larger cities residents name instead of their province
    "nha trang", "da lat", "buon ma thuot", "quy nhon", "phan thiet", "my tho", "rach gia",
    "long xuyen", "bien hoa", "thu dau mot", "pleiku", "ha long", "cam ranh", "tuy hoa",
    "phan rang", "dong hoi", "thu duc",
)  # fmt: skip


ACCOUNTS = (
    "zalo", "facebook", "fb", "messenger", "gmail", "google", "icloud", "apple id", "tiktok",
    "youtube", "instagram", "shopee", "lazada", "tiki", "grab", "sim", "nha mang", "wifi", "4g",
    # Other agencies' records, done online with them
    "bien so", "bang lai", "giay phep lai xe", "ho chieu", "ma so thue",
)  # fmt: skip
"""Other services' apps and accounts, and other agencies' records: "cách đổi mật khẩu Zalo" or
"hộ chiếu gắn chip làm online" is not the ward's online services (VNeID, the public-service
portal, the ward's dossiers). Payment channels (ngân hàng, momo) are left out: residents pay the
ward's fees with them."""

COMPANIES = (
    "shopee", "lazada", "tiki", "grab", "shop", "don hang", "giao hang", "tien dien",
    "dien luc", "tien nuoc", "cap nuoc", "nha mang", "wifi", "internet", "sim", "ngan hang",
)  # fmt: skip
"""Sellers, utilities, carriers and banks: a complaint about them ("tiền điện tháng này tăng
gấp đôi, khiếu nại ở đâu") is not a complaint to the ward's officers."""

AGENCIES = (
    "benh vien", "phong kham", "truong hoc", "nha truong", "truong mam non", "truong tieu hoc",
    "truong thcs", "truong thpt", "truong dai hoc", "hieu truong", "ngan hang", "kho bac",
    "chi cuc thue", "cuc thue", "toa an", "vien kiem sat", "thi hanh an", "dien luc",
    "cap nuoc", "buu dien", "bao hiem xa hoi", "bhxh", "dai su quan", "lanh su quan",
    "xuat nhap canh", "dang kiem", "ben xe", "san bay", "sieu thi",
    "van phong cong chung", "phong cong chung", "so tu phap", "so tai nguyen",
    # Shops, places of worship and carriers: "tiệm photo gần ủy ban có mở Chủ nhật không" (round 10)
    "tiem", "cua hang", "nha tho", "di le", "viettel", "vinaphone", "mobifone", "taxi",
    "khach san", "nha nghi", "tram can",
    # A school's calendar and staff: "lịch nghỉ tết của học sinh" is not the office's hours
    "hoc sinh", "sinh vien", "giao vien", "co giao", "thay giao",
)  # fmt: skip
"""Other bodies residents ask the phone or the hours of: "xin số tổng đài của bệnh viện tỉnh" is
not the ward's phone. The ward's own police (công an phường, công an khu vực) is not among them:
the ward profile gives its phone. School words are phrases ("trường" alone folds like "trưởng":
tổ trưởng, trưởng công an). No "công ty": residents ask whether the office is open in their own
company's lunch break."""

JOBS = (
    "tuyen dung", "tuyen nhan vien", "tuyen nguoi", "tuyen cong chuc", "thi cong chuc",
    "tuyen vien chuc", "xin viec", "viec lam", "thuc tap",
)  # fmt: skip
"""Looking for a job: "ủy ban có đang tuyển nhân viên không" asks for work, not for the ward's
phone, hours or an officer."""

ELSEWHERE_FOR = {
    "online_services": ACCOUNTS,
    "handoff": (*COMPANIES, *JOBS),
    "contact": (*AGENCIES, *JOBS),
    "office_hours": (*AGENCIES, *JOBS),
}
"""Intents that a message naming one of these is not about."""


class Phrases:
    """Finds any of a set of phrases (folded as `normalize` folds them) in a message's words."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            words = tuple(normalize(phrase).split())
            if words:
                self._by_first.setdefault(words[0], []).append(words)

    def found(self, words: Sequence[str]) -> bool:
        """One of the phrases is in `words`."""
        for i, word in enumerate(words):
            for phrase in self._by_first.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    return True
        return False


def other_places(
    home: Iterable[str], places: Iterable[str] = PLACES, also: Iterable[str] = ()
) -> Phrases:
    """The places of `places` that are not part of `home` (the ward's own name and province, as
    written in its profile), and the phrases `also` (other agencies, jobs)."""
    own = [f" {normalize(text)} " for text in home]
    kept = [p for p in places if not any(f" {normalize(p)} " in text for text in own)]
    return Phrases([*kept, *also])


LOCALITY_WORDS = frozenset({"phuong", "xa", "quan", "huyen", "tran"})
"""Words before a ward's, commune's or district's name (thị trấn: "tran"), folded."""
_TOKEN = re.compile(r"[\w']+")
_SPANS = frozenset({"gio", "h", "phut", "ngay", "tuan", "thang", "nam", "lan", "buoi"})


def named_localities(text: str) -> list[str]:
    """Localities a message names as "phường Bến Nghé", "xã Ea Tul", "quận 1", folded. Only
    capitalised names count ("phường mình", "xã này" name none), and a message written in
    capitals names none (every word looks like a name)."""
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) > len(letters) / 2:
        return []
    tokens = _TOKEN.findall(unicodedata.normalize("NFC", text))
    found: list[str] = []
    for i, token in enumerate(tokens):
        kind = normalize(token)
        if kind not in LOCALITY_WORDS or i + 1 >= len(tokens):
            continue
        following = tokens[i + 1 :]
        if following[0].isdigit():
            if len(following) > 1 and normalize(following[1]) in _SPANS:
                continue  # "lên phường 2 tháng rồi": a span of time, not "phường 2"
            found.append(f"{kind} {following[0]}")
            continue
        name = list(itertools.takewhile(lambda w: w[:1].isupper(), following))
        if name:
            found.append(normalize(" ".join([kind, *name])))
    return found


class NamedLocalities:
    """Finds a ward, commune or district a message names that is not the ward's own."""

    def __init__(self, home: Iterable[str]) -> None:
        """`home`: the ward's own name and province, as written in its profile."""
        self._own = [f" {normalize(text)} " for text in home]

    def found(self, text: str, words: Sequence[str]) -> bool:
        """`text` (as written; `words`, the same folded) names a ward, commune or district
        ("phường Bến Nghé ở quận 1", "xã Tân Phú") that is not the ward's own. A message with no
        locality word among `words` is not read again."""
        if LOCALITY_WORDS.isdisjoint(words):
            return False
        for named in named_localities(text):
            name = named.split(maxsplit=1)[1]
            if not any(f" {named} " in own or f" {name} " in own for own in self._own):
                return True
        return False
