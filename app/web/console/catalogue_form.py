"""The console's fact form (admins): edit what residents read about one procedure (documents,
situations, notes, deadline, fee) and the province's fee figure; validated and saved as a new
catalogue version (procedures.yaml's text, comments and order kept) on top of the version the
form was made from, and served at once. The form replaces the procedure's facts, so a form made
from a version that is no longer current is refused rather than undoing another admin's edit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.catalogue import facts
from app.catalogue.completeness import LABELS, completeness
from app.catalogue.documents import PROCEDURES
from app.catalogue.editor import EditRefused
from app.catalogue.models import (
    BUTTON_TITLE_LIMIT,
    MAX_PLAIN_NOTES,
    FeeKind,
    LocalFee,
    Plain,
    Procedure,
)
from app.catalogue.plain_editor import FactEdit, apply_fact_edit
from app.catalogue_store import MAX_VERSION, UnknownVersion, save_and_follow
from app.errors import CatalogueConflict, CatalogueError
from app.services import Services
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession
from app.web.console.rendering import CATALOGUE_CONFLICT, render

router = APIRouter(prefix="/console/catalogue")

MAX_CASES = 6
FEE_KINDS = {
    FeeKind.free: "Miễn phí (hồ sơ của Cổng DVC ghi không thu / miễn)",
    FeeKind.fixed: "Mức thu cố định do trung ương quy định",
    FeeKind.province: "Do HĐND tỉnh quy định",
    FeeKind.mixed: "Tùy trường hợp (miễn hoặc có thu)",
    FeeKind.unknown: "Chưa rõ",
}
FIELD_NAMES = {
    "documents": "Giấy tờ",
    "cases": "Trường hợp",
    "title": "tên nút",
    "label": "mô tả",
    "notes": "Lưu ý",
    "deadline": "Thời hạn",
    "fee": "Lệ phí",
    "fee_kind": "Loại lệ phí",
    "amount": "Mức thu của tỉnh",
}


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _form_from(proc: Procedure, catalogue_version: int | None) -> dict[str, Any]:
    """The form's fields: the plain version, or a start from the record for a new one, and the
    catalogue version they were read from."""
    version = proc.plain
    cases = [
        {"title": c.title, "label": c.label, "documents": "\n".join(c.documents)}
        for c in (version.cases if version else ())
    ]
    if version is not None:
        documents, notes = list(version.documents), list(version.notes)
        deadline, fee, fee_kind = version.deadline, version.fee, version.fee_kind.value
    else:
        docs = proc.documents
        documents, notes = [*docs.submit, *docs.present, *docs.forms], []
        deadline = facts.deadline_summary(proc) or ""
        fee = facts.fee_summary(proc) or ""
        fee_kind = proc.fee_kind.value
    return {
        "documents": "\n".join(documents),
        "cases": cases,
        "notes": "\n".join(notes),
        "deadline": deadline,
        "fee": fee,
        "fee_kind": fee_kind,
        "local_amount": "",
        "local_basis": "",
        "version": "" if catalogue_version is None else str(catalogue_version),
    }


def _vietnamese(error: Any) -> str:
    """A validation error as the admin reads it."""
    where = " – ".join(
        FIELD_NAMES.get(str(part), f"số {part + 1}" if isinstance(part, int) else str(part))
        for part in error["loc"]
    )
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        said = f"tối đa {context.get('max_length')} ký tự"
    elif kind == "too_long":
        said = f"tối đa {context.get('max_length')} mục"
    elif kind in ("missing", "string_too_short", "too_short"):
        said = "không được để trống"
    elif "2 to 6" in error["msg"]:
        said = "cần từ 2 đến 6 trường hợp, hoặc không có trường hợp nào"
    elif "same title" in error["msg"]:
        said = "hai trường hợp trùng tên nút"
    elif "documents, cases" in error["msg"]:
        said = "cần ít nhất một giấy tờ hoặc một trường hợp"
    elif "province" in error["msg"]:
        said = (
            "hồ sơ của Cổng DVC để HĐND tỉnh quy định lệ phí: chọn «Do HĐND tỉnh quy định» "
            "hoặc «Tùy trường hợp»"
        )
    else:
        said = error["msg"]
    return f"{where}: {said}" if where else said


def _page(
    request: Request,
    services: Services,
    session: AdminSession,
    proc: Procedure,
    form: dict[str, Any],
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    catalogue = services.knowledge.current.content.catalogue
    row = completeness(proc, catalogue.ward)
    cases = list(form["cases"]) + [{"title": "", "label": "", "documents": ""}] * MAX_CASES
    return render(
        request,
        "catalogue_edit.html",
        session,
        status_code,
        proc=proc,
        form={**form, "cases": cases[:MAX_CASES]},
        errors=errors or [],
        fee_kinds=FEE_KINDS,
        sources={aspect: LABELS[source] for aspect, source in row.sources().items()},
        province=catalogue.ward.province,
        title_limit=BUTTON_TITLE_LIMIT,
        max_notes=MAX_PLAIN_NOTES,
    )


def _procedure(services: Services, code: str) -> Procedure:
    proc = services.knowledge.current.content.catalogue.procedure(code)
    if proc is None:
        raise HTTPException(404, "Không có thủ tục này.")
    return proc


@router.get("/{code}/edit", response_class=HTMLResponse)
async def fact_form(
    request: Request, services: ServicesDep, session: AdminSession, code: str
) -> Response:
    snapshot = services.knowledge.current
    proc = _procedure(services, code)
    form = _form_from(proc, snapshot.version)
    local = snapshot.content.catalogue.ward.local_fees.get(code)
    if local is not None:
        form.update(local_amount=local.amount, local_basis=local.basis or "")
    return _page(request, services, session, proc, form)


@router.post("/{code}/edit", response_class=HTMLResponse)
async def fact_save(
    request: Request, services: ServicesDep, session: AdminSession, code: str
) -> Response:
    proc = _procedure(services, code)
    submitted = await request.form()

    def field(name: str) -> str:
        value = submitted.get(name, "")
        return value if isinstance(value, str) else ""

    cases: list[dict[str, str]] = [
        {
            "title": " ".join(field(f"case_title_{i}").split()),
            "label": " ".join(field(f"case_label_{i}").split()),
            "documents": field(f"case_documents_{i}"),
        }
        for i in range(MAX_CASES)
    ]
    cases = [c for c in cases if c["title"] or c["label"] or c["documents"].strip()]
    form: dict[str, Any] = {
        "documents": field("documents"),
        "cases": cases,
        "notes": field("notes"),
        "deadline": field("deadline").strip(),
        "fee": field("fee").strip(),
        "fee_kind": field("fee_kind"),
        "local_amount": field("local_amount").strip(),
        "local_basis": field("local_basis").strip(),
        "version": field("version").strip(),
    }
    version = form["version"]
    if not (version.isascii() and version.isdigit() and len(version) <= 10) or not (
        1 <= int(version) <= MAX_VERSION
    ):
        # The version the form was read from: without it a save could undo another's edit.
        raise HTTPException(422, "Biểu mẫu thiếu phiên bản danh mục; vui lòng tải lại trang.")
    errors: list[str] = []
    try:
        plain = Plain.model_validate(
            {
                "documents": _lines(form["documents"]),
                "cases": [{**c, "documents": _lines(c["documents"])} for c in cases],
                "notes": _lines(form["notes"]),
                "deadline": " ".join(form["deadline"].split()),
                "fee": " ".join(form["fee"].split()),
                "fee_kind": form["fee_kind"],
            }
        )
        local = (
            LocalFee(amount=form["local_amount"], basis=form["local_basis"] or None)
            if form["local_amount"]
            else None
        )
    except ValidationError as exc:
        errors = [_vietnamese(e) for e in exc.errors()]
    if errors:
        return _page(request, services, session, proc, form, errors, 422)
    edit = FactEdit(plain, local)
    store = services.catalogue
    if store is None:
        raise HTTPException(503, "Danh mục chưa sẵn sàng.")
    try:
        saved = await asyncio.to_thread(
            save_and_follow,
            services.knowledge,
            lambda: store.edit(
                PROCEDURES,
                lambda text: apply_fact_edit(text, code, edit),
                base=int(version),
                author=session.user.username,
                reason=f"Sửa thông tin thủ tục {code} ({proc.short_name})",
            ),
        )
    except EditRefused as exc:
        return _page(request, services, session, proc, form, [str(exc)], 422)
    except (CatalogueConflict, UnknownVersion):
        # The form keeps the admin's text and its old version: saving it again is refused
        # until the page is reloaded with the other admin's edit in it.
        return _page(request, services, session, proc, form, [CATALOGUE_CONFLICT], 409)
    except CatalogueError as exc:
        problems = ["Không lưu được vì danh mục sẽ không hợp lệ:"]
        problems += [f"{p.location}: {p.message}" for p in exc.problems]
        return _page(request, services, session, proc, form, problems, 422)
    stored = saved.version if saved is not None else 0
    return RedirectResponse(f"/console/catalogue?code={code}&saved={stored}", 303)
