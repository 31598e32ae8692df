"""Completeness per procedure and in `wardbot validate`: what residents get, from which source."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.catalogue import Catalogue, load_catalogue
from app.catalogue.completeness import Source, completeness, completeness_of, summary
from app.catalogue.models import FeeKind, LocalFee
from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(ROOT / "procedures.yaml")


def _without_plain(catalogue: Catalogue) -> Catalogue:
    procedures = tuple(p.model_copy(update={"plain": None}) for p in catalogue.procedures)
    return catalogue.model_copy(update={"procedures": procedures})


def test_each_aspect_has_a_source() -> None:
    for row, proc in zip(completeness_of(CATALOGUE), CATALOGUE.procedures, strict=True):
        if proc.plain is not None:
            assert (row.documents, row.deadline, row.fee) == (Source.plain,) * 3
        if not proc.documents.known and proc.plain is None:
            assert row.documents is Source.missing and not row.complete
        assert (row.channels is Source.missing) == (proc.channels is None)


def test_records_and_the_older_reference_are_told_apart() -> None:
    rows = completeness_of(_without_plain(CATALOGUE))
    sources = {row.code: row.documents for row in rows}
    assert sources["1.004837"] is Source.record  # imported from its record
    assert sources["1.001193"] is Source.reference  # from the first reference
    assert sources["2.001283"] is Source.missing  # no record at all


def test_a_province_figure_is_the_fees_source() -> None:
    proc = next(p for p in CATALOGUE.procedures if p.fee_kind is FeeKind.province)
    ward = CATALOGUE.ward.model_copy(
        update={"local_fees": {proc.code: LocalFee(amount="3.000 đồng")}}
    )
    assert completeness(proc, ward).fee is Source.local
    assert completeness(proc, CATALOGUE.ward).fee is not Source.local


def test_the_summary_counts_what_the_rows_say() -> None:
    lines = summary(CATALOGUE)
    rows = completeness_of(CATALOGUE)
    for aspect in ("documents", "deadline", "fee", "channels"):
        known = sum(1 for r in rows if getattr(r, aspect) is not Source.missing)
        [line] = [line for line in lines if line.strip().startswith(aspect)]
        assert f"{known} known" in line
    without = [p.code for p in CATALOGUE.procedures if p.plain is None]
    assert f"without a plain version ({len(without)})" in lines[-1]


def test_validate_prints_the_summary() -> None:
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "procedures.yaml")])
    assert result.exit_code == 0, result.output
    assert "Completeness (80 procedures" in result.output
    assert "facts from: portal record 59" in result.output
