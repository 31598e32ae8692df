"""What to say to a resident reporting a problem: pure decisions, no storage, no HTTP.

A report needs what happened and where. The resident may give both at once ("phản ánh: đèn
đường hỏng ở ngõ 5"), or one at a time, and may add a photo or a location on the map.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.dialogue.reply import Button, ButtonKind, Reply
from app.matching.normalize import normalize

DRAFT_TTL = timedelta(minutes=30)
_STARTS = ("phan anh", "kien nghi", "bao su co")
_CANCEL = {"huy", "huy bo", "thoi", "khong gui nua", "huy phan anh"}
_WHERE_WORDS = {"o", "tai"}
_PLACE_WORDS = {"ngo", "ngach", "hem", "kiet", "thon", "xom", "ap", "to", "so"}
_CODE = re.compile(r"\bPA[\s-]?(\d{1,6})\b", re.IGNORECASE)
_LOOKUP = ("tra cuu", "kiem tra", "xem")


class Status(StrEnum):
    new = "new"
    assigned = "assigned"
    answered = "answered"
    closed = "closed"


STATUS_TEXT = {
    Status.new: "đã tiếp nhận, đang chờ phân công xử lý",
    Status.assigned: "đang được cán bộ xử lý",
    Status.answered: "đã có phản hồi, đang tiếp tục xử lý",
    Status.closed: "đã xử lý xong",
}


def report_code(report_id: int) -> str:
    return f"PA-{report_id:04d}"


def parse_code(text: str) -> int | None:
    found = _CODE.search(text)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Draft:
    """A report being written. Stored as JSON between messages."""

    what: str | None = None
    where: str | None = None
    image_url: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    updated_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return bool(self.what) and (bool(self.where) or self.latitude is not None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Draft | None:
        if not data:
            return None
        when = data.get("updated_at")
        return cls(
            what=data.get("what"),
            where=data.get("where"),
            image_url=data.get("image_url"),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            updated_at=datetime.fromisoformat(when) if when else None,
        )

    def expired(self, now: datetime) -> bool:
        return self.updated_at is not None and now - self.updated_at > DRAFT_TTL


@dataclass(frozen=True)
class Step:
    """The outcome of one message: the reply, the draft to keep (None: none), and whether to
    file the report now."""

    reply: Reply | None
    draft: Draft | None
    file: bool = False


def _strip_start(text: str) -> str | None:
    """The text after "phản ánh"/"kiến nghị", or None when the message does not start so."""
    tokens = text.split()
    for count in range(1, min(4, len(tokens)) + 1):
        head = normalize(" ".join(tokens[:count]))
        if head in _STARTS:
            rest = " ".join(tokens[count:])
            return rest.lstrip(":-–—,. ").strip()
        if not any(s.startswith(head) for s in _STARTS):
            return None
    return None


def split_what_where(text: str) -> tuple[str, str | None]:
    """'đèn đường hỏng ở ngõ 5' -> ('đèn đường hỏng', 'ngõ 5')."""
    tokens = text.split()
    folded = [normalize(t) for t in tokens]
    for index, word in enumerate(folded):
        if index > 0 and word in _WHERE_WORDS and index + 1 < len(tokens):
            return " ".join(tokens[:index]).rstrip(",;"), " ".join(tokens[index + 1 :])
    for index, word in enumerate(folded):
        if index > 0 and word in _PLACE_WORDS and index + 1 < len(tokens):
            return " ".join(tokens[:index]).rstrip(",;"), " ".join(tokens[index:])
    return text, None


ASK_WHAT = Reply(
    "Dạ, em ghi nhận phản ánh của anh/chị ạ. Anh/chị mô tả giúp em sự việc cần phản ánh "
    "(ví dụ: “đèn đường hỏng”, “rác thải tồn đọng”) ạ."
)
ASK_WHERE = Reply(
    "Dạ, anh/chị cho em xin địa điểm cụ thể (số nhà, ngõ, đường, tổ dân phố) hoặc gửi vị trí "
    "trên bản đồ ạ. Anh/chị có thể gửi kèm ảnh hiện trường nếu có."
)
CANCELLED = Reply("Dạ, em đã hủy phản ánh đang soạn. Khi cần, anh/chị nhắn “phản ánh” ạ.")
PHOTO_KEPT = "Dạ, em đã nhận ảnh ạ."
NOTHING_TO_ATTACH = Reply(
    "Dạ, em đã nhận được. Nếu anh/chị muốn phản ánh sự việc, vui lòng nhắn “phản ánh: "
    "nội dung ở địa điểm” (ví dụ: “phản ánh: đèn đường hỏng ở ngõ 5”) ạ."
)


def _next(draft: Draft, now: datetime, prefix: str | None = None) -> Step:
    draft = replace(draft, updated_at=now)
    if draft.complete:
        return Step(None, draft, file=True)
    ask = ASK_WHAT if not draft.what else ASK_WHERE
    text = f"{prefix}\n{ask.text}" if prefix else ask.text
    return Step(Reply(text), draft)


def on_text(text: str, draft: Draft | None, now: datetime) -> Step | None:
    """A text message: start, continue or cancel a report; None when it is not about one."""
    if draft is not None and draft.expired(now):
        draft = None
    rest = _strip_start(text)
    if rest is not None:
        what, where = split_what_where(rest) if rest else (None, None)
        started = Draft(what=what or None, where=where)
        if draft is not None:  # keep a photo or location sent just before
            started = replace(
                started,
                image_url=draft.image_url,
                latitude=draft.latitude,
                longitude=draft.longitude,
                where=started.where or draft.where,
            )
        return _next(started, now)
    if draft is None:
        return None
    if normalize(text) in _CANCEL:
        return Step(CANCELLED, None)
    if not draft.what:
        what, where = split_what_where(text.strip())
        return _next(replace(draft, what=what, where=draft.where or where), now)
    return _next(replace(draft, where=text.strip()), now)


def on_image(url: str | None, draft: Draft | None, now: datetime) -> Step:
    if draft is None or draft.expired(now):
        # A photo first: keep it and ask what it shows.
        return _next(Draft(image_url=url), now, PHOTO_KEPT)
    return _next(replace(draft, image_url=url or draft.image_url), now, PHOTO_KEPT)


def on_location(
    latitude: float, longitude: float, address: str | None, draft: Draft | None, now: datetime
) -> Step:
    base = draft if draft is not None and not draft.expired(now) else Draft()
    located = replace(
        base, latitude=latitude, longitude=longitude, where=base.where or address or None
    )
    return _next(located, now, "Dạ, em đã nhận vị trí ạ.")


def filed_reply(code: str) -> Reply:
    return Reply(
        f"Dạ, phường đã tiếp nhận phản ánh của anh/chị, mã số {code}. Cán bộ sẽ xem xét và "
        f"phản hồi qua Zalo này. Anh/chị nhắn “tra cứu {code}” để xem tình trạng xử lý ạ."
    )


def is_lookup(text: str) -> bool:
    folded = normalize(text)
    return parse_code(text) is not None and (
        folded.startswith(_LOOKUP) or folded.replace(" ", "").startswith("pa")
    )


def status_reply(code: str, status: Status | None, answer: str | None) -> Reply:
    if status is None:
        return Reply(
            f"Dạ, em không tìm thấy phản ánh {code} của anh/chị. Anh/chị kiểm tra lại mã số "
            "giúp em ạ."
        )
    text = f"Dạ, phản ánh {code} {STATUS_TEXT[status]} ạ."
    if answer:
        text += f"\nPhản hồi gần nhất của phường: {answer}"
    return Reply(text)


class Rating(StrEnum):
    satisfied = "satisfied"
    unsatisfied = "unsatisfied"


def parse_rating(text: str) -> tuple[Rating, int | None] | None:
    folded = normalize(_CODE.sub(" ", text))
    if folded in ("chua hai long", "khong hai long"):
        return Rating.unsatisfied, parse_code(text)
    if folded == "hai long":
        return Rating.satisfied, parse_code(text)
    return None


def closed_reply(code: str, answer: str | None) -> Reply:
    text = f"Dạ, phản ánh {code} của anh/chị đã được xử lý xong."
    if answer:
        text += f"\n{answer}"
    text += "\nAnh/chị có hài lòng với kết quả xử lý không ạ?"
    return Reply(
        text,
        (
            Button("Hài lòng", ButtonKind.query, f"Hài lòng {code}"),
            Button("Chưa hài lòng", ButtonKind.query, f"Chưa hài lòng {code}"),
        ),
    )


def thanks_for_rating(rating: Rating) -> Reply:
    if rating is Rating.satisfied:
        return Reply("Dạ, em cảm ơn anh/chị đã đánh giá ạ.")
    return Reply(
        "Dạ, em cảm ơn anh/chị đã góp ý. Phường sẽ xem xét lại việc xử lý; anh/chị có thể "
        "nhắn “phản ánh” để bổ sung thông tin ạ."
    )


def staff_answer(code: str, text: str) -> Reply:
    return Reply(f"Phường phản hồi phản ánh {code}:\n{text}")
