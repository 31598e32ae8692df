"""What to bring: the first answer, its notes and one situation's documents, each short enough
for one message (documents before notes; the rest in the full view).

From the plain version when there is one: the common situation first, and where documents
differ by situation, the situations to choose from (never all of them at once). Until there is
one, from the record: its own lines, verbatim, as many as fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.catalogue.models import Documents, PlainCase, Procedure
from app.dialogue import texts
from app.dialogue.texts import bullets, capitalise, fit, numbered, plain

CASE_LABEL_LIMIT = 160
"""A record's case names can run to 600 characters; the first answer shows the start."""
MORE_RESERVE = 120
"""Room kept for the line that says how much more the full view holds."""

Sections = list[tuple[str | None, list[str]]]


@dataclass(frozen=True)
class DocumentsAnswer:
    """Paragraphs answering "what to bring", and what the resident can ask for next."""

    paragraphs: list[str]
    missing: bool = False
    """The catalogue has no document list: the reply ends with the portal and the phone."""
    notes_left: bool = False
    """Notes exist that this answer did not show ("còn lưu ý gì" shows them)."""
    cases: tuple[PlainCase, ...] = ()
    """Situations the resident is asked to choose from (buttons)."""


def clip(text: str, limit: int = CASE_LABEL_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


def case_label(label: str) -> str:
    """A record's case name without its list marks ("- ", "* ") and trailing colon."""
    return capitalise(label.strip().lstrip("-*+ ").rstrip(" :"))


def record_sections(docs: Documents, *, whole: bool = False) -> Sections:
    """The record's documents as sections: submit, present, forms, then each case (its name
    shortened unless `whole`)."""
    sections: Sections = []
    if docs.submit:
        sections.append(("Giấy tờ cần nộp:", bullets(docs.submit)))
    if docs.present:
        sections.append(("Giấy tờ cần xuất trình:", bullets(docs.present)))
    if docs.forms:
        sections.append(("Mẫu đơn, tờ khai:", bullets(docs.forms)))
    for index, case in enumerate(docs.cases, start=1):
        lines: list[str] = []
        if case.submit:
            lines += ["Cần nộp:", *bullets(case.submit)]
        if case.present:
            lines += ["Cần xuất trình:", *bullets(case.present)]
        lines += bullets(case.items)
        label = case_label(case.label)
        sections.append((f"Trường hợp {index}: {label if whole else clip(label)}", lines))
    return sections


def record_note_sections(proc: Procedure) -> Sections:
    sections: Sections = []
    if proc.documents.notes:
        sections.append(("Lưu ý:", bullets(proc.documents.notes)))
    if proc.conditions:
        sections.append(("Điều kiện:", bullets(proc.conditions)))
    return sections


def _with_more(kept: list[str], left: int) -> list[str]:
    if left:
        kept.append(
            f"(Còn {left} mục nữa, anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ ạ.)"
        )
    return kept


def first_answer(proc: Procedure, name: str, budget: int, lead: bool = True) -> DocumentsAnswer:
    """What to bring, in at most `budget` characters. `lead`: open with "Dạ, hồ sơ ..."."""
    docs, version = proc.documents, proc.plain
    if version is None and not docs.known:
        said = f"Dạ, em chưa có thông tin chính thức về thành phần hồ sơ của thủ tục {name} ạ."
        return DocumentsAnswer([said] if lead else [said.removeprefix("Dạ, ")], missing=True)
    if version is not None and version.cases:
        return _choose_case(proc, name, budget, lead)
    if version is not None:
        opening = f"Dạ, hồ sơ thủ tục {name} gồm:"
        sections: Sections = [
            (opening if lead else "Hồ sơ cần chuẩn bị:", bullets(version.documents))
        ]
        notes: Sections = [("Lưu ý:", bullets(version.notes))] if version.notes else []
    else:
        opening = f"Dạ, hồ sơ thủ tục {name} như sau ạ:"
        sections = [(opening, [])] if lead else []
        sections += record_sections(docs)
        notes = record_note_sections(proc)
    kept, left = fit([*sections, *notes], budget - MORE_RESERVE)
    note_lines = sum(len(lines) for _, lines in notes)
    return DocumentsAnswer(_with_more(kept, left), notes_left=left > 0 and note_lines > 0)


def _choose_case(proc: Procedure, name: str, budget: int, lead: bool) -> DocumentsAnswer:
    version = proc.plain
    assert version is not None
    opening = f"Dạ, giấy tờ thủ tục {name} tùy trường hợp của anh/chị ạ."
    question = "\n".join(
        [
            "Anh/chị thuộc trường hợp nào ạ?",
            *numbered([capitalise(plain(c.label)) for c in version.cases]),
            "Anh/chị bấm chọn hoặc nhắn số thứ tự, em gửi giấy tờ của trường hợp đó ạ.",
        ]
    )
    fixed = [opening] if lead else []
    room = budget - len("\n\n".join([*fixed, question])) - 2
    common: Sections = []
    if version.documents:
        common.append(("Trường hợp nào cũng cần:", bullets(version.documents)))
    kept, left = fit(common, room - MORE_RESERVE)
    return DocumentsAnswer(
        [*fixed, *_with_more(kept, left), question],
        notes_left=bool(version.notes),
        cases=version.cases,
    )


def case_answer(proc: Procedure, index: int, name: str, budget: int) -> list[str]:
    """One situation's documents (plain version), the common ones first, then the notes."""
    version = proc.plain
    if version is None or not 0 <= index < len(version.cases):
        raise ValueError(f"{proc.code} has no plain case {index}")
    case = version.cases[index]
    opening = (
        f"Dạ, thủ tục {name}, trường hợp {plain(case.label).rstrip('.')}, anh/chị cần chuẩn bị:"
    )
    sections: Sections = [(opening, bullets([*version.documents, *case.documents]))]
    if version.notes:
        sections.append(("Lưu ý:", bullets(version.notes)))
    kept, left = fit(sections, budget - MORE_RESERVE)
    return _with_more(kept, left)


def notes_answer(proc: Procedure, name: str, budget: int) -> list[str]:
    """The notes: the plain version's (the ones that change what to bring or who may go), else
    the record's notes and conditions, as many as fit."""
    if proc.plain is not None and proc.plain.notes:
        sections: Sections = [(f"Dạ, lưu ý khi làm thủ tục {name}:", bullets(proc.plain.notes))]
    else:
        sections = record_note_sections(proc)
        if not sections:
            return [f"Dạ, em không có thêm lưu ý nào về thủ tục {name} ngoài thông tin đã gửi ạ."]
        sections.insert(0, (f"Dạ, lưu ý của thủ tục {name} ạ:", []))
    kept, left = fit(sections, budget - MORE_RESERVE)
    return _with_more(kept, left)
