"""The ward profile's `dossiers:` section is checked with the line that is wrong, and what a
message asks about a dossier is read before anything else."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from app.catalogue import load_catalogue
from app.catalogue.dossier_profile import DossierLookup
from app.dialogue.reply import MAX_BUTTONS, MESSAGE_LIMIT
from app.dialogue.texts import BUTTON_TITLE_LIMIT
from app.dossiers.dialogue import (
    Ask,
    DossierRequest,
    how_to_reply,
    lookup_reply,
    read_request,
    status_sentence,
)
from app.dossiers.status import (
    DossierState,
    DossierStatus,
    InMemoryStatusProvider,
    ProviderInvalid,
    load_provider,
)
from app.errors import CatalogueError
from tests.conftest import ROOT

SAMPLE = load_catalogue(ROOT / "procedures.yaml").ward.dossiers
CODE = "H26.12-251201-0001"


def _broken(tmp_path: Path, key: str, value: str) -> tuple[Path, int]:
    path = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", path)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"    {key}:"))
    lines[index] = f"    {key}: {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, index + 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("code_pattern", "'H(\\d{2}'", "not a valid regular expression"),
        ("code_pattern", "'.*'", "must not match an empty text"),
        ("lookup_url", "https://tinh.example/tra-cuu", "must contain {code}"),
        ("code_example", "X-1", "does not match code_pattern"),
    ],
)
def test_a_bad_dossiers_section_names_its_line(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    path, line = _broken(tmp_path, key, value)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    (problem,) = info.value.problems
    assert message in problem.message
    assert "ward.dossiers" in problem.location
    # The example is checked against the pattern as a whole: the section's line is named.
    assert problem.line is not None and abs(problem.line - line) <= 4


def test_the_sample_ward_has_a_working_example() -> None:
    assert SAMPLE is not None and SAMPLE.code_example == CODE
    assert SAMPLE.find_code(f"cho em tra cứu hồ sơ {CODE.lower()} với ạ") == CODE
    assert SAMPLE.link_for(CODE).endswith(CODE)


LOOKUP = DossierLookup(
    code_pattern=r"H\d{2}\.\d{1,3}-\d{6}-\d{4}",
    lookup_url="https://tinh.example/tra-cuu?ma={code}",
    code_printed_on="phiếu hẹn",
    code_example=CODE,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"tra cứu hồ sơ {CODE}", DossierRequest(Ask.lookup, CODE)),
        (CODE, DossierRequest(Ask.lookup, CODE)),
        (f"ho so {CODE.lower()} den dau roi", DossierRequest(Ask.lookup, CODE)),
        (f"Theo dõi hồ sơ {CODE}", DossierRequest(Ask.follow, CODE)),
        (f"theo doi {CODE}", DossierRequest(Ask.follow, CODE)),
        (f"Bỏ theo dõi hồ sơ {CODE}", DossierRequest(Ask.unfollow, CODE)),
        ("tra cứu hồ sơ", DossierRequest(Ask.how_to)),
        ("tra cuu ho so", DossierRequest(Ask.how_to)),
        ("mã hồ sơ ở đâu", DossierRequest(Ask.how_to)),
        ("hồ sơ khai sinh gồm những gì", None),
        ("tra cứu PA-0001", None),
        ("H26 là gì", None),
    ],
)
def test_what_a_message_asks(text: str, expected: DossierRequest | None) -> None:
    assert read_request(text, LOOKUP) == expected


def test_replies_stay_within_zalos_limits() -> None:
    status = DossierStatus(DossierState.needs_papers, missing="x" * 1500)
    for reply in (
        lookup_reply(CODE, LOOKUP, status, following=False),
        lookup_reply(CODE, LOOKUP, None, following=True),
        how_to_reply(LOOKUP),
    ):
        assert len(reply.text) <= MESSAGE_LIMIT
        assert len(reply.buttons) <= MAX_BUTTONS
        assert all(len(b.title) <= BUTTON_TITLE_LIMIT for b in reply.buttons)


def test_every_status_reads_as_a_sentence() -> None:
    ready = DossierStatus(DossierState.result_ready, pickup_date=date(2026, 12, 5))
    assert status_sentence(ready) == "đã có kết quả, anh/chị đến nhận từ ngày 05/12/2026"
    for state in DossierState:
        assert status_sentence(DossierStatus(state))


def test_the_provider_is_loaded_from_its_import_path() -> None:
    provider = load_provider("app.dossiers.status:InMemoryStatusProvider")
    assert isinstance(provider, InMemoryStatusProvider)
    for bad in ("app.dossiers.status", "app.nowhere:Provider", "app.dossiers.status:DossierState"):
        with pytest.raises(ProviderInvalid):
            load_provider(bad)
