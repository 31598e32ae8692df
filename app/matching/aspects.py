"""Which detail of a procedure a question asks about (documents, deadline, fee, ...).

The cues are written folded (no diacritics) and matched on whole words, longest first, so
"mai táng phí" (a procedure's name) is not read as a question about a fee.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum

from app.matching.normalize import normalize


class Aspect(StrEnum):
    documents = "documents"
    notes = "notes"
    deadline = "deadline"
    fee = "fee"
    where = "where"
    online = "online"
    steps = "steps"


def _listed(text: str) -> tuple[str, ...]:
    """A comma-separated list, as the cue tables below are written."""
    return tuple(" ".join(item.split()) for item in text.split(",") if item.strip())


_CUES: Mapping[Aspect, tuple[str, ...]] = {
    Aspect.documents: _listed(
        """
        can gi, can nhung gi, can co gi, can nhung giay, can nhung giay to, giay to gi,
        giay to nao, giay gi, can giay to, can giay gi, nhung giay to, giay to can, mang gi,
        mang theo, can mang, mang nhung gi, dem theo, dem gi, can dem, chuan bi gi,
        can chuan bi, chuan bi nhung gi, ho so gom, ho so gi, ho so can, thanh phan ho so,
        bo ho so, ho so nhu the nao, nop nhung gi, gom nhung gi, yeu cau gi, dieu kien gi
        """
    ),
    Aspect.notes: _listed(
        """
        luu y, can luu y, luu y gi, chu y gi, can chu y
        """
    ),
    Aspect.deadline: _listed(
        """
        bao lau, mat bao lau, bao nhieu lau, bao lau thi, lau khong, may ngay, bao nhieu ngay,
        may hom, may tuan, may thang, bao gio, khi nao, ngay nao, hom nao, thoi gian, thoi han,
        lay ngay, trong ngay, nhanh khong, tra ket qua, co ket qua
        """
    ),
    Aspect.fee: _listed(
        """
        phi, le phi, chi phi, mien phi, mat phi, thu phi, tien phi, bao nhieu tien, nhieu tien,
        bao tien, mat tien, co mat tien, ton tien, het tien, dong tien, tra tien, tien khong,
        het bao nhieu, ton bao nhieu, mat bao nhieu, gia bao nhieu, ton kem
        """
    ),
    Aspect.where: _listed(
        """
        o dau, o cho nao, cho nao, noi nao, tai dau, den dau, di dau, ra dau, nop dau, lam dau,
        co quan nao, phong nao, ban nao, bo phan nao, dia diem, noi nop, ai giai quyet, ai lam
        """
    ),
    Aspect.online: _listed(
        """
        online, onl, truc tuyen, qua mang, tren mang, qua app, tren app, qua dien thoai,
        tren dien thoai, qua zalo, nop mang, internet, vneid, dich vu cong, dvc, dvcqg,
        khong can den, khong can ra, khong phai den, khong phai ra
        """
    ),
    Aspect.steps: _listed(
        """
        cac buoc, quy trinh, trinh tu, cach, cach lam, cach thuc, huong dan, lam the nao,
        lam nhu the nao, the nao, nhu the nao, nhu nao, lam sao, ra sao, phai lam gi, lam gi,
        bat dau tu dau
        """
    ),
}

_NOT_CUES = _listed(
    # Names that contain a cue word but are a topic of their own.
    """
    mai tang phi, phi mai tang, chi phi mai tang, ho tro chi phi, kinh phi,
    tai khoan dich vu cong, dang ky tai khoan dich vu cong, cong dich vu cong,
    truoc thoi han, mot thoi gian, thoi han su dung, het thoi han, chua bao gio,
    dia diem kinh doanh
    """
)

_SHORTHAND: Mapping[str, str] = {
    # Only the shorthand that spells a cue; the lexicon handles the rest of teencode.
    "j": "gi", "ji": "gi", "ko": "khong", "k": "khong", "kg": "khong", "khg": "khong",
    "kh": "khong", "hk": "khong", "hok": "khong", "hong": "khong", "khum": "khong",
    "bn": "bao nhieu", "bnh": "bao nhieu", "bnhieu": "bao nhieu", "nhiu": "nhieu",
    "ntn": "nhu the nao", "dc": "duoc", "dk": "duoc", "lm": "lam", "tg": "thoi gian",
    "onl": "online", "z": "vay", "v": "vay", "s": "sao",
}  # fmt: skip

_FILLERS = frozenset(
    _listed(
        # Words a follow-up wraps its detail in: "thế còn lệ phí thì sao ạ".
        """
        a, ad, anh, ban, bao, ben, can, cai, chi, cho, chu, co, con, da, dau, de, di, do,
        duoc, em, gi, giay, gom, hay, het, ho, hoi, khong, kia, kieu, la, lam, lay, luon, mat,
        minh, muon, nao, nay, neu, nha, nhe, nhi, nhieu, nhung, nop, nua, o, ok, oke, oi,
        phai, phuong, ra, roi, rui, sao, so, the, thi, thu, tien, to, toi, tuc, u, ubnd, uh,
        um, va, vay, voi, vs, xa, xin
        """
    )
)

Span = tuple[int, int, Aspect | None]
"""Token positions [start, end) of a cue and its aspect (None: a name that only looks like one)."""


def _build_table() -> dict[tuple[str, ...], Aspect | None]:
    table: dict[tuple[str, ...], Aspect | None] = {}
    for aspect, cues in _CUES.items():
        for cue in cues:
            table[tuple(cue.split())] = aspect
    for phrase in _NOT_CUES:
        table[tuple(phrase.split())] = None
    return table


_TABLE = _build_table()
_LONGEST = max(len(key) for key in _TABLE)


def cue_spans(words: Sequence[str]) -> Iterator[Span]:
    """Cues in already normalised words, longest match first, left to right, not overlapping."""
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            key = tuple(words[i : i + size])
            if key in _TABLE:
                yield i, i + size, _TABLE[key]
                i += size
                break
        else:
            i += 1


def cue_phrases() -> tuple[tuple[str, ...], ...]:
    """Every cue and look-alike name, as word tuples (the matcher treats them as known words)."""
    return tuple(_TABLE)


def _words(text: str) -> list[str]:
    words: list[str] = []
    for word in normalize(text).split():
        words.extend(_SHORTHAND.get(word, word).split())
    return words


def detect_aspects(text: str) -> frozenset[Aspect]:
    """The details `text` asks about; empty when it asks about none in particular."""
    return frozenset(a for _, _, a in cue_spans(_words(text)) if a is not None)


def is_followup_only(text: str) -> bool:
    """True when `text` asks about a detail and names no topic of its own ("còn phí thì sao?"),
    so the dialogue applies it to the procedure under discussion."""
    words = _words(text)
    covered: set[int] = set()
    found = False
    for start, end, aspect in cue_spans(words):
        if aspect is None:
            return False
        found = True
        covered.update(range(start, end))
    if not found:
        return False
    return all(w in _FILLERS or w.isdigit() for i, w in enumerate(words) if i not in covered)
