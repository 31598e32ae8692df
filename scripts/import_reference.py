"""One-off import of ../shared/reference/procedures-reference.yaml into procedures.yaml.

Kept for provenance: it shows that every fact in procedures.yaml was copied from the
reference, never written by hand. Facts are copied verbatim; only the shape changes.
Admins now edit procedures.yaml directly; do not re-run this over their edits.

    python scripts/import_reference.py ../shared/reference/procedures-reference.yaml procedures.yaml
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

CATEGORY_BY_FIELD = {
    "Hộ tịch": "ho_tich",
    "Hộ tịch / Cư trú / BHYT (liên thông)": "ho_tich",
    "Nuôi con nuôi": "ho_tich",
    "Chứng thực": "chung_thuc",
    "Bảo trợ xã hội": "bao_tro_xa_hoi",
    "Người có công": "bao_tro_xa_hoi",
    "Giảm nghèo": "bao_tro_xa_hoi",
    "Đăng ký hộ kinh doanh": "ho_kinh_doanh",
    "Kinh doanh khí": "ho_kinh_doanh",
    "Đất đai": "dat_dai_xay_dung",
    "Hoạt động xây dựng": "dat_dai_xay_dung",
    "Nghĩa vụ quân sự": "nghia_vu_quan_su",
    "Đăng ký, quản lý cư trú": "cu_tru",
    "Văn hóa": "khac",
    "Giáo dục": "khac",
    "Tổ chức hội": "khac",
    "Hòa giải ở cơ sở": "khac",
}

CASE_LABELS = {
    "submit_tro_cap_hang_thang": "Hưởng trợ cấp xã hội hằng tháng",
    "submit_ho_tro_cham_soc_nuoi_duong": "Hỗ trợ chăm sóc, nuôi dưỡng",
    "present_khi_nop_truc_tiep": "Xuất trình khi nộp trực tiếp",
    "submit_thay_doi_ten_dia_chi_von_nganh_nghe_thue": "Thay đổi tên, địa chỉ, vốn, ngành nghề",
    "submit_doi_chu_ho_do_uy_quyen": "Đổi chủ hộ do ủy quyền",
    "submit_chu_ho_chet_mat_tich_mat_NLHVDS": "Chủ hộ chết, mất tích, mất năng lực hành vi dân sự",
    "submit_ho_gia_dinh_ca_nhan": "Hộ gia đình, cá nhân",
}


def short_name(name: str) -> str:
    text = re.sub(r"^Thủ tục ", "", name).split(" — ")[0].split(" (")[0]
    text = text[0].upper() + text[1:]
    if len(text) <= 40:
        return text
    cut = text[:40].rsplit(" ", 1)[0].rstrip(",;")
    return cut


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith("unknown")


def convert_documents(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    status = str(doc.get("status", "known"))
    lists = {k: v for k, v in doc.items() if isinstance(v, list)}
    if status.startswith("partial"):
        # Only secondary sources list these: keep them, but never as the known list.
        return {"status": "unknown", "unverified_expected": lists.get("submit", [])}
    if status == "unknown" and not any(k in lists for k in ("submit", "present")):
        out["status"] = "unknown"
        if "unverified_expected" in lists:
            out["unverified_expected"] = lists["unverified_expected"]
        return out
    out["status"] = "known"
    for key in ("submit", "present"):
        if key in lists:
            out[key] = lists[key]
    cases = [
        {"label": CASE_LABELS[k], ("present" if k.startswith("present") else "submit"): v}
        for k, v in lists.items()
        if k in CASE_LABELS
    ]
    if cases:
        out["cases"] = cases
    for key in ("notes", "unverified_expected"):
        if key in lists:
            out[key] = lists[key]
    unhandled = (
        set(lists) - {"submit", "present", "notes", "unverified_expected"} - set(CASE_LABELS)
    )
    if unhandled:
        raise SystemExit(f"unhandled document keys: {unhandled}")
    return out


def convert(p: dict[str, Any]) -> dict[str, Any]:
    field = p["field"]
    category = CATEGORY_BY_FIELD[field]
    handled_by = {"cu_tru": "police", "nghia_vu_quan_su": "military"}.get(category, "one_stop")
    caveats = list(p.get("caveats") or [])
    if p.get("legal_basis_note"):
        caveats.append(p["legal_basis_note"])
    out: dict[str, Any] = {
        "code": str(p["code"]),
        "name": p["name"],
        "short_name": short_name(p["name"]),
        "category": category,
        "field": field,
        "handled_by": handled_by,
        "agency": p["agency"],
        "documents": convert_documents(p["documents"]),
        "deadline": "unknown" if is_unknown(p["deadline"]) else p["deadline"],
        "fee": "unknown" if is_unknown(p["fee"]) else p["fee"],
        "channels": "unknown" if is_unknown(p["channels"]) else p["channels"],
        "online_level": "unknown" if is_unknown(p["online_level"]) else p["online_level"],
    }
    if p.get("result"):
        out["result"] = p["result"]
    if p.get("conditions"):
        cond = p["conditions"]
        out["conditions"] = cond if isinstance(cond, list) else [cond]
    if category in ("ho_tich", "chung_thuc") and field in ("Hộ tịch", "Chứng thực"):
        out["common_rules"] = category
    out["legal_basis"] = p.get("legal_basis") or []
    out["dvc"] = {
        "detail_url": p["dvc"].get("detail_url"),
        "search_url": p["dvc"]["search_url"],
        "formality_id_status": p["dvc"].get("formality_id_status"),
    }
    out["detail_level"] = p["detail_level"]
    out["caveats"] = caveats
    related = list(p.get("related") or []) + list(p.get("related_codes_unverified") or [])
    if related:
        out["related"] = [str(r) for r in related]
    out["aliases"] = p.get("aliases") or []
    out["examples"] = []
    out["sources"] = p.get("sources") or []
    return out


def main(src: str, dst: str) -> None:
    ref = yaml.safe_load(Path(src).read_text(encoding="utf-8"))
    header = Path(dst).read_text(encoding="utf-8") if Path(dst).exists() else ""
    head, _, _ = header.partition("\ncommon_rules:")
    common = {
        key: {"applies_to": v["applies_to"], "rules": v.get("rules", []), "fees": v.get("fees", [])}
        for key, v in ref["common_rules"].items()
    }
    body = yaml.safe_dump(
        {"common_rules": common, "procedures": [convert(p) for p in ref["procedures"]]},
        allow_unicode=True,
        sort_keys=False,
        width=120,
    )
    Path(dst).write_text(head.rstrip("\n") + "\n" + body, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
