"""Lexicon rules and typo repair, on a small lexicon so each rule is visible."""

from __future__ import annotations

from collections import Counter

import pytest

from app.catalogue.intents import Lexicon
from app.matching.analysis import Corrector, LexiconRules

LEXICON = Lexicon(
    abbreviations={"ks": "khai sinh", "đk": "đăng ký", "tt": ["thủ tục", "tạm trú", "thường trú"]},
    phrases={"hộ khẩu": "thường trú", "công chứng": "chứng thực", "cho hỏi": "", "đk kh": "x"},
    stopwords=["ạ", "ad", "gì", "nhé", "người ta"],
)


@pytest.fixture
def rules() -> LexiconRules:
    return LexiconRules(LEXICON)


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def test_abbreviation_expands_to_its_meaning(rules: LexiconRules) -> None:
    [reading] = rules.readings(words("ks cho con"))
    assert reading.words == words("khai sinh cho con")
    assert reading.prior == 1.0


def test_ambiguous_abbreviation_gives_every_reading_most_likely_first(rules: LexiconRules) -> None:
    readings = rules.readings(words("tt"))
    assert [r.words for r in readings] == [words("thu tuc"), words("tam tru"), words("thuong tru")]
    assert readings[0].prior > readings[1].prior == readings[2].prior


def test_phrase_keys_are_read_like_questions(rules: LexiconRules) -> None:
    # The key "đk kh" is stored as "dang ky kh", the way a question's "đk" is read.
    assert rules.rewrite(words("dang ky kh")) == words("x")


def test_rewrite_is_one_pass_longest_first(rules: LexiconRules) -> None:
    assert rules.rewrite(words("nhap ho khau")) == words("nhap thuong tru")
    assert rules.rewrite(words("cho hoi cong chung")) == words("chung thuc")


def test_terms_drop_stopwords_and_mark_details(rules: LexiconRules) -> None:
    terms = rules.terms(words("khai sinh can gi a ad mat bao lau 2"))
    assert [(t.word, t.detail) for t in terms] == [
        ("khai", False),
        ("sinh", False),
        ("can", True),
        ("gi", True),  # part of the cue "cần gì", so kept as a detail
        ("mat", True),
        ("bao", True),
        ("lau", True),
        ("2", True),
    ]


def test_multi_word_stopword(rules: LexiconRules) -> None:
    assert [t.word for t in rules.analyse("người ta làm khai sinh")] == ["lam", "khai", "sinh"]


def test_catalogue_text_uses_the_first_reading(rules: LexiconRules) -> None:
    assert [t.word for t in rules.analyse("TT hộ khẩu")] == ["thu", "tuc", "thuong", "tru"]


@pytest.fixture
def corrector(rules: LexiconRules) -> Corrector:
    vocabulary = Counter(words("khai sinh dang ky ket hon chung thuc ban sao gia han tam tru"))
    pairs = {("khai", "sinh"), ("dang", "ky"), ("ket", "hon"), ("chung", "thuc"), ("tam", "tru")}
    return Corrector(vocabulary, rules.known_words(), pairs, rules.abbreviations)


@pytest.mark.parametrize(
    ("question", "repaired"),
    [
        ("khai sin", "khai sinh"),  # a letter missing, confirmed by its neighbour
        ("khai xinh", "khai sinh"),  # s/x confusion
        ("dang kys", "dang ky"),  # telex tone key left over
        ("ddang ky", "dang ky"),  # telex đ
        ("khaisinh", "khai sinh"),  # run together
        ("chungthuc ban sao", "chung thuc ban sao"),
        ("ks dk", "ks dk"),  # abbreviations are left for the lexicon
        ("17tuoi", "17 tuoi"),
    ],
)
def test_repairs(corrector: Corrector, question: str, repaired: str) -> None:
    assert " ".join(corrector.correct(words(question))) == repaired


@pytest.mark.parametrize(
    "question",
    [
        "gia xang",  # "xang" is one letter from "sang"-like words but no pair confirms it
        "sin",  # nothing next to it to confirm "sinh"
        "xo so",  # a tone key never starts a word
        "asdfgh",
    ],
)
def test_leaves_unrelated_words_alone(corrector: Corrector, question: str) -> None:
    assert " ".join(corrector.correct(words(question))) == question


def test_clause_words_marks_clauses_and_questions() -> None:
    from app.matching.analysis import CLAUSE_BREAK, QUESTION_BREAK, clause_words

    assert clause_words("mẹ tôi ngoài 80, không có lương. Phải làm sao?") == [
        *words("me toi ngoai 80"), CLAUSE_BREAK, *words("khong co luong"), CLAUSE_BREAK,
        *words("phai lam sao"), QUESTION_BREAK,
    ]  # fmt: skip
    # A decimal point or a code is no sentence end.
    assert clause_words("mã 1.001193 là gì") == list(words("ma 1 001193 la gi"))
    assert clause_words("...") == []


def test_the_story_is_what_comes_before_the_question(rules: LexiconRules) -> None:
    from app.matching.analysis import clause_words

    terms = rules.terms(clause_words("bé sinh 10 ngày rồi, làm ks ở đâu"))
    assert [t.word for t in terms if t.story] == ["be", "sinh", "10", "ngay", "roi"]
    # One clause: no story.
    assert not any(t.story for t in rules.terms(clause_words("bé sinh 10 ngày làm ks ở đâu")))
    # The question is the last clause that asks, whatever follows it.
    terms = rules.terms(clause_words("cho hỏi ks ở đâu, cảm ơn"))
    assert [t.word for t in terms if t.story] == ["cam", "on"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("me ngoai 80 khong co luong", "me cao tuoi khong co luong"),
        ("ong 77 tuoi", "ong cao tuoi"),
        ("be 5 tuoi", "be 5 tuoi"),
        ("sinh nam 1980", "sinh nam 1980"),
        ("o so 80 duong mau", "o so 80 duong mau"),
    ],
)
def test_an_old_persons_age(text: str, expected: str) -> None:
    from app.matching.analysis import mark_old_age

    assert mark_old_age(text.split()) == expected.split()


def test_advertising_needs_one_strong_or_two_weak_cues(rules: LexiconRules) -> None:
    from app.catalogue.intents import AdvertisingCues
    from app.matching.analysis import AdvertisingRule, clause_words

    lexicon = LEXICON.model_copy(
        update={
            "advertising": AdvertisingCues(
                strong=["ib", "^nhận làm"], weak=["cấp tốc", "dịch vụ"], not_cues=["dịch vụ công"]
            )
        }
    )
    rule = AdvertisingRule(lexicon, rules)

    def ad(text: str) -> bool:
        return rule.is_advertising(rules.rewrite(clause_words(text)))

    assert ad("làm sổ đỏ nhanh, ib em")
    assert ad("Nhận làm giấy độc thân")
    assert ad("xin chào. nhận làm sổ đỏ")
    assert not ad("phường có nhận làm khai sinh cho người tỉnh khác không")
    assert ad("dịch vụ làm sổ đỏ cấp tốc")
    assert not ad("làm khai sinh cấp tốc được không")
    assert not ad("nộp trên dịch vụ công có cấp tốc không")


def test_a_clause_set_aside_is_left_out() -> None:
    from app.matching.analysis import clause_words

    words = clause_words("chuyện sang tên sổ đỏ thì để sau, cho tôi hỏi làm giấy chứng tử")
    assert "so" not in words and words[:2] == ["cho", "toi"]
    # "để sau này" (for later on) sets nothing aside
    assert "so" in clause_words("làm sổ đỏ để sau này chia cho con")
