"""Scoring a matcher against labelled questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue import Content
from app.matching.evaluate import (
    LabelledQuestion,
    evaluate,
    example_questions,
    read_labelled_tsv,
)
from app.matching.matcher import Matcher
from app.matching.result import Candidate, MatchResult
from tests.matching.conftest import HELDOUT


class ScriptedMatcher:
    """Answers from a table, so the arithmetic of the report can be checked by hand."""

    def __init__(self, answers: dict[str, MatchResult]) -> None:
        self.answers = answers

    def match(self, text: str) -> MatchResult:
        return self.answers[text]


def question(text: str, *expected: str) -> LabelledQuestion:
    return LabelledQuestion(text, frozenset(expected))


def test_read_labelled_tsv(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text(
        "# expected\ttext\n\n1.001193|1.000689\tks can gi\nintent:thanks\tcam on\nnone\tkqxs\n",
        encoding="utf-8",
    )
    rows = read_labelled_tsv(path)
    assert [(r.text, sorted(r.expected)) for r in rows] == [
        ("ks can gi", ["1.000689", "1.001193"]),
        ("cam on", ["intent:thanks"]),
        ("kqxs", ["none"]),
    ]
    assert rows[0].source == "q.tsv:3"
    assert [r.in_scope for r in rows] == [True, True, False]


@pytest.mark.parametrize("line", ["no tab here", "1.001193\t ", "\tks", "none|1.001193\tx"])
def test_read_labelled_tsv_names_the_bad_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(f"# header\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:2"):
        read_labelled_tsv(path)


def test_report_rates() -> None:
    proc = Candidate("procedure", "1.001193", 90.0)
    other = Candidate("procedure", "1.004884", 80.0)
    answers = {
        "right": MatchResult("right", "procedure", "1.001193", 90.0, (proc,)),
        "clarified right": MatchResult("clarified right", "clarify", None, 60.0, (proc, other)),
        "clarified wrong": MatchResult("clarified wrong", "clarify", None, 60.0, (other, proc)),
        "wrong": MatchResult("wrong", "procedure", "1.004884", 90.0, (other,)),
        "rejected": MatchResult("rejected", "none", None, 10.0),
        "intent": MatchResult("intent", "intent", "thanks", 90.0),
        "kqxs": MatchResult("kqxs", "none", None, 0.0),
        "weather": MatchResult("weather", "intent", "greeting", 70.0),
    }
    report = evaluate(
        ScriptedMatcher(answers),
        [
            question("right", "1.001193"),
            question("clarified right", "1.001193"),
            question("clarified wrong", "1.001193"),
            question("wrong", "1.001193"),
            question("rejected", "1.001193"),
            question("intent", "intent:thanks"),
            question("kqxs", "none"),
            question("weather", "none"),
        ],
    )
    assert report.accuracy == pytest.approx(3 / 6)
    assert report.wrong_confident_rate == pytest.approx(2 / 8)
    assert report.rejection_rate == pytest.approx(1 / 2)
    assert report.clarify_rate == pytest.approx(2 / 6)
    assert [o.question.text for o in report.confusions] == ["clarified wrong", "wrong"]
    assert [o.question.text for o in report.wrongly_rejected] == ["rejected"]
    assert [o.question.text for o in report.wrongly_accepted] == ["weather"]
    assert "accuracy 50.0%" in report.summary()


def test_empty_report_is_not_a_division_by_zero() -> None:
    report = evaluate(ScriptedMatcher({}), [])
    assert (report.accuracy, report.wrong_confident_rate, report.rejection_rate) == (1, 0, 1)


def test_every_procedure_has_examples(content: Content) -> None:
    questions = example_questions(content.catalogue)
    covered = {code for q in questions for code in q.expected}
    assert covered == {p.code for p in content.catalogue.procedures}


def test_examples_reach_their_procedure(content: Content, matcher: Matcher) -> None:
    report = evaluate(matcher, example_questions(content.catalogue))
    assert report.accuracy >= 0.98, [o.question.source for o in report.confusions]
    assert report.wrong_confident_rate == 0


def test_heldout_questions(matcher: Matcher) -> None:
    """New phrasings that are not in the catalogue: the targets the product is held to."""
    report = evaluate(matcher, read_labelled_tsv(HELDOUT))
    assert len(report.outcomes) >= 150
    assert report.accuracy >= 0.97, [o.question.text for o in report.confusions]
    assert report.wrong_confident_rate <= 0.02
    assert report.rejection_rate >= 0.95, [o.question.text for o in report.wrongly_accepted]


# Blind sets: written by someone who saw only the official procedure names and codes, never the
# catalogue's aliases, examples or lexicon. Each is kept as a regression with the figures it
# reached; a threshold may only rise. (blind-1 was the tuning set of issue 13: 69.7% / 2.1% /
# 87.5% before it; blind-2, written after round 1, scored 80.0% / 2.7% / 91.5% untouched and
# was round 2's tuning set; blind-3, written after round 2, scored 95.3% / 2.2% / 88.7% untouched
# and was round 3's tuning set: 96.4% / 0.7% / 98.1% after it. blind-4 and blind-5 were the
# untouched sets of rounds 3 and 4 and then the tuning sets of rounds 4 and 5; blind-6, written
# after round 5, is untouched: docs/matching.md has every figure.)
BLIND_SETS = {
    # file: (min accuracy, max wrong and confident, min out-of-scope rejected)
    "blind-1.tsv": (0.96, 0.009, 1.0),
    "blind-2.tsv": (0.945, 0.006, 1.0),
    "blind-3.tsv": (0.96, 0.01, 1.0),
    "blind-4.tsv": (0.962, 0.006, 0.986),
    "blind-5.tsv": (0.932, 0.008, 1.0),
    "blind-6.tsv": (0.955, 0.004, 0.987),  # round 6 tuned on it (untouched: 0.955, 0.0155, 0.938)
    # round 7 tuned on both (untouched on round 5: 0.957, 0.022, 0.856 and 0.944, 0.031, 0.821)
    "blind-7.tsv": (0.957, 0.01, 0.954),
    "blind-9.tsv": (0.943, 0.012, 0.928),
    # written with blind-7 and blind-9; untouched after round 7 (0.942, 0.014, 0.909 and 0.947,
    # 0.01, 0.93); round 8 tuned on both
    "blind-8.tsv": (0.942, 0.012, 0.972),
    "blind-10.tsv": (0.947, 0.01, 0.97),
    # written after round 7; round 8 tuned on 11, 12 and 14 (untouched before it: 0.965, 0.005,
    # 0.943; 0.965, 0.007, 0.914; 0.947, 0.011, 0.916), never on 13 (0.968, 0.007, 0.99)
    "blind-11.tsv": (0.965, 0.006, 0.977),
    "blind-12.tsv": (0.964, 0.004, 0.957),
    "blind-13.tsv": (0.968, 0.008, 0.99),
    "blind-14.tsv": (0.946, 0.006, 0.978),
    # written after round 8; round 9 tuned on 15 and 17 (untouched on round 8: 0.962, 0.006,
    # 0.943 and 0.961, 0.011, 0.924), never on 16 (0.965, 0.003, 0.988 on rounds 8 and 9)
    "blind-15.tsv": (0.962, 0.001, 0.988),
    "blind-16.tsv": (0.965, 0.004, 0.987),
    "blind-17.tsv": (0.96, 0.006, 0.978),
    # written after round 9; round 10 tuned on all four (untouched on round 9: 0.96, 0.016,
    # 0.956; 0.94, 0.01, 0.973; 0.955, 0.009, 0.951; 0.942, 0.021, 0.942)
    "blind-18.tsv": (0.963, 0.011, 0.978),
    "blind-19.tsv": (0.944, 0.004, 0.986),
    "blind-20.tsv": (0.955, 0.006, 0.975),
    "blind-21.tsv": (0.946, 0.015, 0.965),
    # written after round 10; round 11 tuned on all four (untouched on round 10: 0.958, 0.013,
    # 0.945; 0.973, 0.003, 0.975; 0.966, 0.02, 0.95; 0.952, 0.003, 0.964)
    "blind-22.tsv": (0.958, 0.006, 0.989),
    "blind-23.tsv": (0.973, 0.003, 0.987),
    "blind-24.tsv": (0.966, 0.015, 1.0),
    "blind-25.tsv": (0.952, 0.003, 0.988),
    # written after round 11, never tuned on: untouched figures
    "blind-26.tsv": (0.968, 0.01, 0.96),
    "blind-27.tsv": (0.967, 0.007, 0.972),
    "blind-28.tsv": (0.962, 0.015, 0.984),
    "blind-29.tsv": (0.959, 0.006, 0.962),
}


@pytest.mark.parametrize(("name", "floors"), BLIND_SETS.items())
def test_blind_sets(matcher: Matcher, name: str, floors: tuple[float, float, float]) -> None:
    min_accuracy, max_wrong, min_rejected = floors
    report = evaluate(matcher, read_labelled_tsv(HELDOUT.with_name(name)))
    assert len(report.outcomes) >= 200
    assert report.accuracy >= min_accuracy, report.summary()
    assert report.wrong_confident_rate <= max_wrong, report.summary()
    assert report.rejection_rate >= min_rejected, [o.question.text for o in report.wrongly_accepted]
