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

ELSEWHERE_FOR = {"online_services": ACCOUNTS, "handoff": COMPANIES}
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


def other_places(home: Iterable[str], places: Iterable[str] = PLACES) -> Phrases:
    """The places of `places` that are not part of `home` (the ward's own name and province, as
    written in its profile)."""
    own = [f" {normalize(text)} " for text in home]
    return Phrases(p for p in places if not any(f" {normalize(p)} " in text for text in own))
