"""Intents asked in words of their own: cue families (intents.yaml `cues`)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from app.catalogue.intents import Intent
from app.matching.cues import CueTable, rest
from app.matching.matcher import Matcher


def _read(words: Sequence[str]) -> tuple[str, ...]:
    # The lexicon reads "số điện thoại" as "hotline" and drops fillers ("cho em hỏi").
    text = " ".join(words)
    return tuple({"so dien thoai": "hotline", "cho em hoi": ""}.get(text, text).split())


def test_a_rule_fires_only_when_every_group_is_found() -> None:
    table = CueTable({7: [[("may gio",), ("mo cua", "dong cua")]]}, _read)
    assert table.fired(["chieu", "may", "gio", "dong", "cua"]) == {7: {1, 2, 3, 4}}
    assert table.fired(["may", "gio", "roi"]) == {}


def test_cue_words_are_read_through_the_lexicon() -> None:
    table = CueTable({3: [[("số điện thoại",)]], 4: [[("cho em hỏi",)]]}, _read)
    assert table.fired(["xin", "hotline"]) == {3: {1}}
    assert table.fired(["cho", "em", "hoi"]) == {}  # a rule the lexicon reads as nothing


def test_rest_is_what_the_cues_leave() -> None:
    assert rest(["cam", "on", "can", "bo", "a"], {0, 1}, frozenset({"a"})) == {"can", "bo"}


@pytest.mark.parametrize("rule", ["mấy giờ + ", "a || b", "+ mở cửa"])
def test_an_empty_group_or_word_is_refused(rule: str) -> None:
    with pytest.raises(ValidationError, match="cue rule"):
        Intent(id="x", description="x", phrases=("x",), answer="x", cues=(rule,))


def test_rules_are_groups_of_words() -> None:
    intent = Intent(id="x", description="x", phrases=("x",), answer="x", cues=("a | b c + d",))
    assert intent.cue_rules == ((("a", "b c"), ("d",)),)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("chiều mấy giờ thì ngưng nhận hồ sơ", "office_hours"),
        ("ở đây hỏi được những chuyện gì vậy", "help"),
        ("Cảm ơn các anh chị đã hướng dẫn tận tình, chúc cả nhà sức khỏe", "thanks"),
        ("cho tôi xem các lĩnh vực", "menu"),
    ],
)
def test_intents_in_words_of_their_own(matcher: Matcher, text: str, intent: str) -> None:
    result = matcher.match(text)
    assert (result.kind, result.id) == ("intent", intent), result


def test_a_named_procedure_wins_over_cues(matcher: Matcher) -> None:
    result = matcher.match("làm khai tử online trên vneid được không")
    assert result.alternatives[0].id == "1.000656", result


def test_a_greeting_that_says_something_else_is_no_greeting(matcher: Matcher) -> None:
    assert matcher.match("xin chào, bán nhà mặt phố").kind == "none"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("cảm ơn ad, thông tin rất hữu ích", "intent"),  # praise after thanks
        ("dạ cảm ơn, giải đáp nhanh ghê", "intent"),
    ],
)
def test_a_thanks_that_asks_nothing_is_thanks(matcher: Matcher, text: str, kind: str) -> None:
    assert matcher.match(text).kind == kind
