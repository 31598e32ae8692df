"""The console's fact form: a procedure's plain version (documents, situations, notes, deadline,
fee) and the province's fee figure, written back into procedures.yaml's text round-trip.

`apply_fact_edit` only produces the new text (comments, order and every other key kept); the
form saves it through the catalogue store (`CatalogueStore.edit`), which validates it and stores
it as a new version on top of the version the form was made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.catalogue.editor import EditRefused
from app.catalogue.importer import PLAIN_ORDER, dump, procedure_entries, set_key, to_plain, yaml_rt
from app.catalogue.models import LocalFee, Plain

WARD_ORDER = (
    "sample_data",
    "name",
    "province",
    "address",
    "timezone",
    "office_hours",
    "office_hours_note",
    "contacts",
    "provincial_portal_url",
    "national_portal_url",
    "police",
    "local_fees",
    "residential_groups",
)


@dataclass(frozen=True)
class FactEdit:
    """What an admin submitted for one procedure."""

    plain: Plain
    local_fee: LocalFee | None = None


def plain_mapping(plain: Plain) -> dict[str, Any]:
    """A plain version as procedures.yaml writes it (empty lists and None left out)."""
    data = plain.model_dump(mode="json", exclude_none=True)
    ordered = {key: data[key] for key in PLAIN_ORDER if data.get(key) not in (None, [], "")}
    for case in ordered.get("cases", []):
        case_items = {k: case[k] for k in ("title", "label", "documents")}
        case.clear()
        case.update(case_items)
    return ordered


def apply_fact_edit(text: str, code: str, edit: FactEdit) -> str:
    """`text` (procedures.yaml) with procedure `code`'s plain version and local fee replaced.

    Raises EditRefused for an unknown procedure. The engineers' note on contradictions
    (`plain.contradictions`), which the form does not show, is kept.
    """
    yaml = yaml_rt()
    data = yaml.load(text)
    entry = procedure_entries(data).get(code)
    if entry is None:
        raise EditRefused(f"Không có thủ tục mã {code}.")
    plain = plain_mapping(edit.plain)
    kept_note = to_plain((entry.get("plain") or {}).get("contradictions"))
    if kept_note and "contradictions" not in plain:
        plain["contradictions"] = kept_note
    set_key(entry, "plain", plain)
    ward = data["ward"]
    fees = ward.get("local_fees")
    if edit.local_fee is not None:
        figure = edit.local_fee.model_dump(exclude_none=True)
        if fees is None:
            set_key(ward, "local_fees", {code: figure}, WARD_ORDER)
        elif to_plain(fees.get(code)) != figure:
            fees[code] = figure
    elif fees is not None and code in fees:
        del fees[code]
        if not fees:
            del ward["local_fees"]
    return dump(yaml, data)
