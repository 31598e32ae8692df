"""Residents and their tổ dân phố: recognise a group command in a message and decide the reply.

Pure: the groups come from the ward profile, the current membership from the caller, and the
caller stores the outcome. Commands are recognised only when the whole message is one (give or
take politeness words), so procedure questions such as "đăng ký khai sinh cho con ở tổ 5" or
"tổ hòa giải" reach the procedure matcher untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from app.catalogue.models import ResidentialGroup
from app.dialogue.reply import MAX_BUTTONS, Button, ButtonKind, Reply
from app.matching.normalize import normalize

CommandKind = Literal["join", "leave", "ask", "menu", "unknown_group"]


@dataclass(frozen=True)
class GroupCommand:
    kind: CommandKind
    group: ResidentialGroup | None = None
    """The group to join (join)."""
    mentioned: str | None = None
    """What the resident wrote for a group the ward does not have (unknown_group)."""


@dataclass(frozen=True)
class GroupOutcome:
    """The reply, and the membership to store when `changed` (None means: no group)."""

    reply: Reply
    group_id: str | None
    changed: bool


# --- canonical text -------------------------------------------------------------------------

_EXPANSIONS = {
    "dk": "dang ky",
    "dky": "dang ky",
    "dki": "dang ky",
    "ki": "ky",
    "tb": "thong bao",
    "ko": "khong",
    "k": "khong",
    "hong": "khong",
    "hok": "khong",
    "kp": "khu pho",
}
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def canonical(text: str) -> str:
    """Folded text with abbreviations expanded, "số" before a number dropped, "05" -> "5"."""
    words = _LETTER_DIGIT.sub(" ", normalize(text)).split()
    expanded: list[str] = []
    for word in words:
        expanded.extend(_EXPANSIONS.get(word, word).split())
    out: list[str] = []
    for index, word in enumerate(expanded):
        following = expanded[index + 1] if index + 1 < len(expanded) else ""
        if word == "so" and following.isdigit():
            continue  # "tổ dân phố số 5" == "tổ dân phố 5"
        out.append(str(int(word)) if word.isdigit() else word)
    return " ".join(out)


# --- the ward's groups ----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDirectory:
    """Every name a resident may use for each group, canonicalised."""

    groups: tuple[ResidentialGroup, ...]
    phrases: dict[tuple[str, ...], ResidentialGroup]
    longest: int

    def resolve(self, name: str) -> ResidentialGroup | None:
        """The group named exactly `name` (its id, name or an alias), or None."""
        return self.phrases.get(tuple(canonical(name).split()))

    def by_id(self, group_id: str | None) -> ResidentialGroup | None:
        return next((g for g in self.groups if g.id == group_id), None)


@lru_cache(maxsize=16)
def directory(groups: tuple[ResidentialGroup, ...]) -> GroupDirectory:
    candidates: dict[tuple[str, ...], set[str]] = {}
    for group in groups:
        for name in (group.id.replace("-", " "), group.name, *group.aliases):
            key = tuple(canonical(name).split())
            if key:
                candidates.setdefault(key, set()).add(group.id)
    by_id = {g.id: g for g in groups}
    # A phrase two groups share names neither of them.
    phrases = {k: by_id[next(iter(v))] for k, v in candidates.items() if len(v) == 1}
    return GroupDirectory(groups, phrases, max((len(k) for k in phrases), default=0))


def zalo_tag_name(group: ResidentialGroup) -> str:
    """The Zalo tag mirroring a group: its first all-capitals alias ("TDP 5"), else its name."""
    for alias in group.aliases:
        letters = [c for c in alias if c.isalpha()]
        if letters and all(c.isupper() for c in letters):
            return alias
    return group.name


# --- recognising a command -------------------------------------------------------------------

_REF_WORDS = r"(?:to dan pho|to|tdp|khu pho|nhom)"
_WHO = r"(?:toi|minh|em|chau|con|nha (?:toi|minh|em)|gia dinh (?:toi|minh|em))"
_LEAD = re.compile(r"^(?:(?:ad|admin|ad oi|admin oi|da|vang|chao ad|xin chao|alo|oi)\s+)+")
_TAIL = re.compile(
    r"(?:\s+(?:a|ah|nhe|nha|nhen|voi|giup|giup (?:toi|em|minh|chau|con)|ad|admin|oi|di|luon|ok"
    r"|nhi|vay|cam on|thanks|nua))+$"
)


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^{pattern}$")


_ASK = (
    _full(
        rf"(?:{_WHO} )?(?:(?:dang|hien|nay|da|o|thuoc|la|cua|nam|song|dang ky|nhan|thong bao|vao)"
        rf" )*{_REF_WORDS} (?:nao|may|gi|so may)(?: (?:the|ha|vay))?"
    ),
    _full(rf"{_REF_WORDS} cua {_WHO} (?:la )?(?:{_REF_WORDS} )?(?:nao|gi|may|so may)"),
)
# "nhắn tin" (to text) and "nhận tin" (to receive news) fold to the same words, and "không
# tin" means "do not believe": only "thông báo" or "tin nhắn" name the announcements here.
_LEAVE = (
    _full(
        rf"(?:{_WHO} )?(?:muon |xin |can )?(?:huy|ngung|dung|thoi|bo|tat|khong|khong muon"
        r"|khong can)(?: (?:dang ky|nhan|theo doi|muon|can))* (?:thong bao|tin nhan)"
        rf"(?: (?:cua |tu |o )?(?:GRP|{_REF_WORDS}|phuong))?"
    ),
    _full(
        rf"(?:{_WHO} )?(?:muon |xin )?(?:huy|bo|thoi) dang ky"
        rf"(?: (?:nhan thong bao|thong bao|GRP|{_REF_WORDS}))?"
    ),
    _full(rf"(?:{_WHO} )?(?:muon )?(?:roi|ra khoi|thoat|thoat khoi|khong o) (?:GRP|{_REF_WORDS})"),
)
_MENU = (
    _full(
        rf"(?:{_WHO} )?(?:muon )?(?:dang ky )?nhan thong bao"
        rf"(?: (?:cua |theo )?(?:{_REF_WORDS}|phuong))?"
    ),
    _full(
        rf"(?:{_WHO} )?(?:muon )?(?:dang ky|chon|tham gia|vao|chuyen|doi)(?: sang| qua)?"
        rf" {_REF_WORDS}"
    ),
)
_JOIN = (
    _full("GRP"),
    _full(
        rf"(?:{_WHO} )?(?:muon |xin |can |se )?(?:dang ky|tham gia|gia nhap|vao|nhan thong bao)"
        r"(?: (?:nhan thong bao|thong bao))?(?: (?:cua|cho|vao|o|tai|theo|voi|la))? GRP"
    ),
    _full(
        rf"(?:{_WHO} )?(?:(?:dang|hien|hien dang|hien nay|nay|da) )?(?:o|thuoc|song o|nam o|la"
        r"|la nguoi|la dan|la nguoi dan|o tai|cu tru o)(?: (?:khu vuc|dia ban|ben))? GRP"
    ),
    _full(
        rf"(?:{_WHO} )?(?:muon |xin |can )?(?:chuyen|doi|chuyen doi)(?: (?:tu|khoi) GRP)?"
        r"(?: (?:sang|qua|ve|vao|den|thanh))? GRP"
    ),
)


_UNKNOWN_PREFIXES = {
    ("to", "dan", "pho"): "tổ dân phố",
    ("khu", "pho"): "khu phố",
    ("to",): "tổ",
    ("tdp",): "TDP",
    ("nhom",): "nhóm",
}
"""Words that announce a numbered group, and how to write them back to the resident."""


def _template(text: str, found: GroupDirectory) -> tuple[str, list[ResidentialGroup | str]]:
    """Replace every group reference by GRP; return the references in order.

    A reference is a known group, or the text of a numbered one the ward does not have
    ("tổ 15").
    """
    words = canonical(text).split()
    out: list[str] = []
    refs: list[ResidentialGroup | str] = []
    index = 0
    while index < len(words):
        size, ref = _reference_at(words, index, found)
        if ref is None:
            out.append(words[index])
            index += 1
            continue
        out.append("GRP")
        refs.append(ref)
        index += size
    return " ".join(out), refs


def _reference_at(
    words: list[str], index: int, found: GroupDirectory
) -> tuple[int, ResidentialGroup | str | None]:
    for size in range(min(found.longest, len(words) - index), 0, -1):
        group = found.phrases.get(tuple(words[index : index + size]))
        if group is not None:
            return size, group
    for prefix, display in _UNKNOWN_PREFIXES.items():
        end = index + len(prefix)
        if tuple(words[index:end]) == prefix and end < len(words) and words[end].isdigit():
            return len(prefix) + 1, f"{display} {words[end]}"
    return 0, None


def _core(templated: str) -> str:
    return _TAIL.sub("", _LEAD.sub("", templated)).strip()


def parse_group_command(text: str, groups: Sequence[ResidentialGroup]) -> GroupCommand | None:
    """The group command `text` is, or None for anything else (a procedure question...)."""
    if not groups or not text.strip():
        return None
    templated, refs = _template(text, directory(tuple(groups)))
    core = _core(templated)
    if not core:
        return None
    if any(p.match(core) for p in _ASK):
        return GroupCommand("ask")
    if any(p.match(core) for p in _LEAVE):
        return GroupCommand("leave")
    if any(p.match(core) for p in _MENU):
        return GroupCommand("menu")
    if refs and any(p.match(core) for p in _JOIN):
        # The last group written is the one meant: "chuyển từ tổ 5 sang tổ 7".
        target = refs[-1]
        if isinstance(target, str):
            return GroupCommand("unknown_group", mentioned=target)
        return GroupCommand("join", group=target)
    return None


# --- what to answer --------------------------------------------------------------------------

HOW_TO = (
    'Muốn đổi tổ, anh/chị nhắn "chuyển sang tổ …"; muốn dừng nhận thông báo, '
    'nhắn "hủy nhận thông báo" ạ.'
)


def _group_list(groups: Sequence[ResidentialGroup]) -> str:
    return ", ".join(g.name for g in groups)


def choose_group_reply(groups: Sequence[ResidentialGroup], lead: str) -> Reply:
    """Ask which group: buttons when they fit, else the list and an example to copy."""
    example = groups[0].aliases[0] if groups[0].aliases else groups[0].name
    if len(groups) <= MAX_BUTTONS:
        buttons = tuple(Button(g.name, ButtonKind.query, g.name) for g in groups)
        return Reply(f"{lead} Anh/chị chọn tổ của mình bên dưới ạ.", buttons)
    return Reply(
        f"{lead} Các tổ dân phố của phường: {_group_list(groups)}.\n"
        f'Anh/chị nhắn tên tổ của mình, ví dụ: "đăng ký {example}" ạ.'
    )


def decide(
    command: GroupCommand, current_group_id: str | None, groups: Sequence[ResidentialGroup]
) -> GroupOutcome:
    """The reply to `command` for a resident now in `current_group_id` (None: no group)."""
    current = directory(tuple(groups)).by_id(current_group_id)
    keep = current.id if current else None
    match command.kind:
        case "join":
            target = command.group
            assert target is not None
            if current is not None and current.id == target.id:
                text = f"Dạ, anh/chị đã đăng ký nhận thông báo của {target.name} rồi ạ. {HOW_TO}"
                return GroupOutcome(Reply(text), keep, changed=False)
            if current is not None:
                text = (
                    f"Dạ, em đã chuyển anh/chị từ {current.name} sang {target.name} ạ. "
                    f"Từ nay phường sẽ gửi thông báo của {target.name} cho anh/chị qua Zalo này."
                )
                return GroupOutcome(Reply(text), target.id, changed=True)
            text = (
                f"Dạ, em đã ghi nhận anh/chị thuộc {target.name} ạ. Từ nay phường sẽ gửi thông "
                f"báo của {target.name} cho anh/chị qua Zalo này. {HOW_TO}"
            )
            return GroupOutcome(Reply(text), target.id, changed=True)
        case "leave":
            if current is None:
                text = "Dạ, anh/chị hiện chưa đăng ký nhận thông báo của tổ dân phố nào ạ."
                return GroupOutcome(Reply(text), None, changed=False)
            text = (
                f"Dạ, em đã hủy đăng ký nhận thông báo của {current.name} cho anh/chị ạ. "
                'Khi cần, anh/chị nhắn "đăng ký tổ …" để nhận lại ạ.'
            )
            return GroupOutcome(Reply(text), None, changed=True)
        case "ask":
            if current is not None:
                text = f"Dạ, anh/chị đang đăng ký nhận thông báo của {current.name} ạ. {HOW_TO}"
                return GroupOutcome(Reply(text), keep, changed=False)
            lead = "Dạ, anh/chị chưa đăng ký nhận thông báo của tổ dân phố nào ạ."
            return GroupOutcome(choose_group_reply(groups, lead), None, changed=False)
        case "menu":
            lead = "Dạ, để nhận thông báo của phường, anh/chị cho em biết mình ở tổ dân phố nào ạ."
            if current is not None:
                lead = f"Dạ, anh/chị đang nhận thông báo của {current.name}. Nếu muốn đổi tổ:"
            return GroupOutcome(choose_group_reply(groups, lead), keep, changed=False)
        case "unknown_group":
            lead = f'Dạ, em chưa tìm thấy "{command.mentioned}" trong danh sách của phường ạ.'
            return GroupOutcome(choose_group_reply(groups, lead), keep, changed=False)
