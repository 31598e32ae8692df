"""Fixed phrases the bot says, and the one text transform applied to catalogue facts.

Facts from procedures.yaml are shown as written, except that abbreviations residents are not
expected to know (TTPVHCC, DVCQG, CSDL...) are spelled out by `plain`, and an embedded
"unknown" is said in Vietnamese.
"""

from __future__ import annotations

import re
from functools import lru_cache

MENU_TITLE = "Danh sách thủ tục"
"""The menu button: it sends MENU_PAYLOAD, which the dialogue must answer with menu()."""
MENU_PAYLOAD = "Danh sách thủ tục"
FULL_CARD_TITLE = "Xem đầy đủ"
FULL_CARD_PAYLOAD = "Xem đầy đủ: {name}"
"""What the "Xem đầy đủ" button sends: the dialogue answers it with the full record."""
MORE_TITLE = "Xem tiếp"
FULL_CARD_PAGE_PAYLOAD = "Xem đầy đủ: {name} (trang {page})"
"""What "Xem tiếp" sends: the full view's page `page`, answered without remembering anything."""
NOTES_QUESTION = "còn lưu ý gì"
"""The follow-up residents are told to send for a procedure's notes."""
PORTAL_TITLE = "Xem trên Cổng DVC"
NATIONAL_PORTAL_TITLE = "Cổng DVC quốc gia"
PROVINCIAL_PORTAL_TITLE = "Cổng DVC của tỉnh"
CALL_FALLBACK_TITLE = "Gọi cán bộ"
BUTTON_TITLE_LIMIT = 20
"""Zalo's limit on button titles is not documented firmly; titles longer than this are avoided."""

PORTAL_NAME = "Cổng Dịch vụ công"
ONE_STOP_NAME = "Trung tâm Phục vụ hành chính công"

_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    # Longer forms first so "Cổng DVCQG" does not become "Cổng Cổng ...".
    ("Cổng DVCQG", "Cổng Dịch vụ công quốc gia"),
    ("DVCQG", "Cổng Dịch vụ công quốc gia"),
    ("TTPVHCC", ONE_STOP_NAME),
    ("CSDL", "cơ sở dữ liệu"),
    ("XNTTHN", "xác nhận tình trạng hôn nhân"),
    ("GCN", "Giấy chứng nhận"),
    ("HKD", "hộ kinh doanh"),
    ("ĐKKD", "đăng ký kinh doanh"),
    ("GPLX", "giấy phép lái xe"),
    ("BHYT", "bảo hiểm y tế"),
    ("QSDĐ", "quyền sử dụng đất"),
    ("QSH", "quyền sở hữu"),
    ("NVQS", "nghĩa vụ quân sự"),
)


def _compile() -> tuple[tuple[re.Pattern[str], str], ...]:
    # Part of a fact may be unknown ("mức lệ phí đăng ký: unknown"): say that in Vietnamese.
    rules: list[tuple[re.Pattern[str], str]] = [
        (re.compile(r"(?<!\w)unknown(?!\w)", re.IGNORECASE), "chưa có thông tin chính thức")
    ]
    for short, full in _ABBREVIATIONS:
        # "Trung tâm ... (TTPVHCC)" already spells it out: drop the bracket rather than repeat.
        rules.append((re.compile(rf"{re.escape(full)} \({re.escape(short)}\)"), full))
        rules.append((re.compile(rf"(?<!\w){re.escape(short)}(?!\w)"), full))
    return tuple(rules)


_RULES = _compile()


@lru_cache(maxsize=8192)
def plain(text: str) -> str:
    """A catalogue fact as a resident reads it: abbreviations spelled out, nothing else changed.

    Kept: the facts are the catalogue's, a few thousand strings, and each answer renders dozens
    of them through every rule (a fifth of an answer's CPU time, bench/bench_webhook.py (a))."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def capitalise(text: str) -> str:
    """Upper-case the first letter only ("trực tiếp" -> "Trực tiếp"); the rest is left alone."""
    return text[:1].upper() + text[1:]


def bullets(items: list[str] | tuple[str, ...], mark: str = "•") -> list[str]:
    return [f"{mark} {capitalise(plain(item))}" for item in items]


def numbered(items: list[str] | tuple[str, ...]) -> list[str]:
    return [f"{index}. {item}" for index, item in enumerate(items, start=1)]


def paragraphs(*blocks: str | list[str] | None) -> str:
    """Join blocks with one blank line between them (the Zalo client splits long text there).

    A block is a string or a list of lines; empty blocks are skipped.
    """
    parts: list[str] = []
    for block in blocks:
        if not block:
            continue
        text = block if isinstance(block, str) else "\n".join(block)
        text = "\n".join(line.rstrip() for line in text.strip().splitlines())
        if text:
            parts.append(text)
    return "\n\n".join(parts)


def fit(sections: list[tuple[str | None, list[str]]], budget: int) -> tuple[list[str], int]:
    """Paragraphs (a heading, then its lines) that fit together in `budget` characters.

    Lines are taken in order and never cut; at the first line that does not fit, it and every
    line after it are left out. Returns the paragraphs and how many lines were left out.
    """
    kept: list[list[str]] = []
    for index, (heading, lines) in enumerate(sections):
        if heading and not lines:  # a heading alone (an opening line)
            if len(paragraphs(*kept, [heading])) > budget:
                return ["\n".join(p) for p in kept], sum(len(rest) for _, rest in sections[index:])
            kept.append([heading])
            continue
        paragraph: list[str] = []
        for position, line in enumerate(lines):
            candidate = [*paragraph, line] if paragraph or not heading else [heading, line]
            if len(paragraphs(*kept, candidate)) > budget:
                left = len(lines) - position + sum(len(rest) for _, rest in sections[index + 1 :])
                if paragraph:
                    kept.append(paragraph)
                return ["\n".join(p) for p in kept], left
            paragraph = candidate
        if paragraph:
            kept.append(paragraph)
    return ["\n".join(p) for p in kept], 0
