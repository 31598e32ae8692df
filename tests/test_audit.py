"""scripts/audit.py: an audit that could not look packages up never passes as a clean one."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = _audit()

CLEAN = {"name": "fastapi", "version": "0.165.0", "vulns": []}
SKIPPED = {"name": "jinja2", "skip_reason": "Dependency not found on PyPI and could not be audited"}
VULNERABLE = {
    "name": "jinja2",
    "version": "2.4.1",
    "vulns": [{"id": "PYSEC-2014-8", "fix_versions": ["2.7.2"]}],
}
OWN = {"name": "wardbot", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_vulnerability_fails_with_its_advisory(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.summarise(report(CLEAN, VULNERABLE), require=False) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE jinja2 2.4.1: PYSEC-2014-8 (2.7.2)" in out


def test_unchecked_packages_are_reported_loudly(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.summarise(report(CLEAN, SKIPPED), require=False) == 0
    captured = capsys.readouterr()
    assert "1 of 2 packages checked" in captured.out
    assert "could NOT be checked" in captured.err and "jinja2" in captured.err


def test_unchecked_packages_fail_when_the_audit_is_required() -> None:
    assert audit.summarise(report(CLEAN, SKIPPED), require=True) == 2


def test_all_checked_and_clean_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.summarise(report(CLEAN, OWN), require=True) == 0  # this project is not on PyPI
    assert "1 of 1 packages checked, 0 vulnerable" in capsys.readouterr().out
