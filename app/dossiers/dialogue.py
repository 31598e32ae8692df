"""What residents are told about their dossiers: pure decisions, no storage, no HTTP.

A message with a code matching the ward's pattern is about that dossier, whatever else it
says ("tra cứu hồ sơ H26.12-251201-0001", the bare code, "theo dõi hồ sơ ..."); it is read
before the procedure matcher so a code is never taken for something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.catalogue.dossier_profile import DossierLookup
from app.dialogue.reply import Button, ButtonKind, Reply
from app.dossiers.status import DossierState, DossierStatus
from app.matching.normalize import normalize

LOOKUP_TITLE = "Tra cứu trực tuyến"
FOLLOW_TITLE = "Theo dõi hồ sơ"
UNFOLLOW_TITLE = "Bỏ theo dõi"

_UNFOLLOW = ("bo theo doi", "huy theo doi", "ngung theo doi", "dung theo doi", "thoi theo doi")
_FOLLOW = ("theo doi",)
_ASKS = (
    "tra cuu ho so",
    "kiem tra ho so",
    "theo doi ho so",
    "tinh trang ho so",
    "ho so den dau",
    "ma ho so",
)


class Ask(StrEnum):
    lookup = "lookup"
    follow = "follow"
    unfollow = "unfollow"
    how_to = "how_to"
    """About dossiers, without a code: where to find it."""


@dataclass(frozen=True)
class DossierRequest:
    ask: Ask
    code: str | None = None


def read_request(text: str, lookup: DossierLookup) -> DossierRequest | None:
    """What a message asks about a dossier, or None when it is not about one."""
    code = lookup.find_code(text)
    folded = normalize(text)
    if code is None:
        return DossierRequest(Ask.how_to) if any(a in folded for a in _ASKS) else None
    if any(word in folded for word in _UNFOLLOW):
        return DossierRequest(Ask.unfollow, code)
    if any(word in folded for word in _FOLLOW):
        return DossierRequest(Ask.follow, code)
    return DossierRequest(Ask.lookup, code)


def status_sentence(status: DossierStatus) -> str:
    """The status as the end of "Hồ sơ … " (no final full stop)."""
    match status.state:
        case DossierState.received:
            return "đã được tiếp nhận"
        case DossierState.processing:
            return "đang được giải quyết"
        case DossierState.needs_papers:
            if status.missing:
                return f"cần bổ sung giấy tờ: {status.missing.strip().rstrip('.')}"
            return "cần bổ sung giấy tờ; anh/chị liên hệ bộ phận một cửa để biết cần bổ sung gì"
        case DossierState.result_ready:
            if status.pickup_date is not None:
                return f"đã có kết quả, anh/chị đến nhận từ ngày {status.pickup_date:%d/%m/%Y}"
            return "đã có kết quả, anh/chị có thể đến nhận"
        case DossierState.picked_up:
            return "đã được trả kết quả"


def _lookup_button(code: str, lookup: DossierLookup) -> Button:
    return Button(LOOKUP_TITLE, ButtonKind.url, lookup.link_for(code))


def lookup_reply(
    code: str, lookup: DossierLookup, status: DossierStatus | None, *, following: bool
) -> Reply:
    if status is None:
        known = (
            f"Dạ, phường chưa có thông tin về tình trạng hồ sơ {code} trên Zalo. Anh/chị tra "
            "cứu trực tiếp trên cổng dịch vụ công của tỉnh"
        )
    else:
        known = f"Dạ, hồ sơ {code} {status_sentence(status)}. Chi tiết, anh/chị tra cứu"
    lines = [
        f"{known}: {lookup.link_for(code)}",
        f"(Mã hồ sơ in trên {lookup.code_printed_on}.)",
    ]
    if following:
        lines.append("Anh/chị đang theo dõi hồ sơ này: khi tình trạng thay đổi, em sẽ báo ạ.")
        toggle = Button(UNFOLLOW_TITLE, ButtonKind.query, f"Bỏ theo dõi hồ sơ {code}")
    else:
        lines.append(
            f"Anh/chị bấm “{FOLLOW_TITLE}” để được báo qua Zalo khi tình trạng hồ sơ thay đổi ạ."
        )
        toggle = Button(FOLLOW_TITLE, ButtonKind.query, f"Theo dõi hồ sơ {code}")
    return Reply("\n".join(lines), (_lookup_button(code, lookup), toggle))


def how_to_reply(lookup: DossierLookup) -> Reply:
    example = lookup.code_example
    text = f"Dạ, để tra cứu hồ sơ, anh/chị nhắn cho em mã hồ sơ in trên {lookup.code_printed_on}"
    text += f", ví dụ: “tra cứu hồ sơ {example}” ạ." if example else " ạ."
    text += " Em sẽ gửi đường dẫn tra cứu và báo anh/chị khi hồ sơ có kết quả."
    return Reply(text)


def followed_reply(code: str, lookup: DossierLookup, status: DossierStatus | None) -> Reply:
    now = f" Hiện hồ sơ {status_sentence(status)}." if status is not None else ""
    return Reply(
        f"Dạ, em đã ghi nhận: khi tình trạng hồ sơ {code} thay đổi, em sẽ báo anh/chị qua "
        f"Zalo này.{now} Anh/chị nhắn “bỏ theo dõi hồ sơ {code}” khi không cần nữa ạ.",
        (_lookup_button(code, lookup),),
    )


def unfollowed_reply(code: str, was_following: bool) -> Reply:
    if not was_following:
        return Reply(f"Dạ, anh/chị chưa theo dõi hồ sơ {code} ạ.")
    return Reply(f"Dạ, em sẽ không báo tình trạng hồ sơ {code} cho anh/chị nữa ạ.")


def change_notice(code: str, status: DossierStatus) -> str:
    """The notice a follower gets when the status changes (its link goes on a button)."""
    return f"Hồ sơ {code} của anh/chị {status_sentence(status)}."
