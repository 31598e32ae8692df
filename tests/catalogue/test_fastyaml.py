"""The fast reading used to validate gives exactly the round-trip reading's data, or declines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from app.catalogue import fastyaml
from app.catalogue.fastyaml import NotFast, fast_load

ROOT = Path(__file__).resolve().parents[2]


def plain(value: Any) -> Any:
    """ruamel's round-trip objects as plain dicts, lists and scalars, with their types."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def round_trip(text: str) -> Any:
    return plain(YAML(typ="rt").load(text))


def same_or_declined(text: str) -> None:
    try:
        fast = fast_load(text)
    except NotFast:
        return
    exact = round_trip(text)
    assert fast == exact and repr(fast) == repr(exact), text


@pytest.mark.parametrize(
    "path", ["procedures.yaml", "intents/intents.yaml", "intents/lexicon.yaml"]
)
def test_the_real_content_reads_fast_and_the_same(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert repr(fast_load(text)) == repr(round_trip(text))


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\nb: on\nc: No\nd: OFF\ne: y",  # YAML 1.1 booleans: strings in 1.2
        "a: 7:30\nb: 1:20:00",  # sexagesimal in 1.1: strings in 1.2
        "a: true\nb: False\nc: ~\nd: null\ne:\nf: ''",
        "a: 0\nb: -12\nc: +3\nd: 1.5\ne: 1e3\nf: -.5e2\ng: 1.",
        "a: 'quoted: 010'\nb: \"x\\ty\"\nc: |\n  one\n  two\nd: >-\n  folded\n  text",
        "'1.001193': {amount: 5.000 đồng/việc}\nlist: [a, 'b, c', {d: e}]",
    ],
)
def test_ordinary_scalars_read_the_same(text: str) -> None:
    assert repr(fast_load(text)) == repr(round_trip(text))


@pytest.mark.parametrize(
    "text",
    [
        "a: 010",  # 10 in ruamel's reading, 8 in YAML 1.1
        "a: 0o10",
        "a: 0x1F",
        "a: 1_000",
        "a: .inf",
        "a: 2026-01-01",  # a date object
        "a: 1\nb: 2\na: 3",  # duplicate key: round-trip reading refuses it with its line
        "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2",
        "a: !!set {x, y}",
        "a: !custom x",
        "%YAML 1.1\n---\na: yes",
        "a: [1, 2",  # a syntax error: the round-trip reading names the line
        "? [a, b]\n: c",  # an unhashable key
    ],
)
def test_what_might_read_differently_is_declined(text: str) -> None:
    with pytest.raises(NotFast):
        fast_load(text)


SCALARS = st.one_of(
    st.text(alphabet="0123456789.+-_eExobo:~ ntrufalsyNTRUFALSY", max_size=8),
    st.from_regex(r"[0-9]{1,4}([.:-][0-9]{1,3}){0,2}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(SCALARS)
def test_any_plain_scalar_reads_the_same_or_is_declined(scalar: str) -> None:
    same_or_declined(f"value: {scalar}\nlist: [{scalar}]\n")


def test_a_text_handed_on_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    parse = fastyaml._parse
    monkeypatch.setattr(fastyaml, "_parse", lambda text: parsed.append(text) or parse(text))
    first = fast_load("a: 1\n", hand_on=True)
    assert fast_load("a: 1\n") is first  # the save's validation reads the editor's data
    assert fast_load("a: 1\n") is not first  # handed on once only
    fast_load("b: 2\n", hand_on=True)
    fast_load("a: 1\n")  # another text: parsed, and the one handed on is dropped
    fast_load("b: 2\n")
    assert parsed == ["a: 1\n", "a: 1\n", "b: 2\n", "a: 1\n", "b: 2\n"]
