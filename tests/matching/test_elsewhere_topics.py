"""Other bodies' topics (the lexicon's `elsewhere` families, round 8): a message whose question
names one is less likely the ward's; its story naming one costs less; a purpose ("để …") and
a topic the catalogue itself speaks of cost nothing."""

from __future__ import annotations

import pytest

from app.catalogue import Content
from app.catalogue.intents import IntentSet
from app.matching.analysis import asked_words, clause_words
from app.matching.matcher import Matcher
from app.matching.topics import FOREIGN_TOPIC_PULL, STORY_TOPIC_PULL, ForeignTopics


@pytest.mark.parametrize(
    "text",
    [
        "mâm cúng đầy tháng cho con gồm những món gì",
        "khởi kiện chia đất thì án phí bao nhiêu",
        "có người tự xưng cán bộ xã gọi bắt chuyển khoản, lừa đảo phải không",
        "đèn đường đầu ngõ hỏng cả tuần rồi",
        "thuế khoán quán tạp hóa năm nay tăng à",
    ],
)
def test_another_bodys_topic_is_out_of_scope(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).kind == "none"


def test_a_procedure_asked_for_beside_another_topic_still_leads(matcher: Matcher) -> None:
    # The topic is the purpose ("để …"): the question is the confirmation itself.
    purpose = matcher.match("xin giấy xác nhận tình trạng hôn nhân để nộp cho tòa án")
    assert purpose.kind in {"procedure", "clarify"}
    assert purpose.alternatives[0].id == "1.004873"
    # The topic is the story: the question is the poor household.
    story = matcher.match("vợ tôi nằm viện lâu ngày, nhà hết tiền, xin vào hộ nghèo thì làm sao")
    assert story.kind in {"procedure", "clarify"}
    assert story.alternatives[0].id in {"1.011606", "1.011607"}


def test_a_topic_the_catalogue_speaks_of_is_no_other_bodys(content: Content) -> None:
    text = "làm khai sinh cho bé Mít cần giấy tờ gì"
    lexicon = content.intents.lexicon
    claimed = lexicon.model_copy(update={"elsewhere": {"test": ("khai sinh", "bé mít")}})
    intents = IntentSet.model_validate(
        {**content.intents.model_dump(), "lexicon": claimed.model_dump()}
    )
    plain = Matcher(content.catalogue, content.intents).match(text)
    claiming = Matcher(content.catalogue, intents).match(text)
    # "khai sinh" is the catalogue's own word: dropped. "bé mít" is not: it pulls.
    assert plain.id == claiming.alternatives[0].id == "1.001193"
    assert claiming.score == pytest.approx(plain.score * FOREIGN_TOPIC_PULL, abs=0.01)


def test_a_sellers_listing_is_advertising(matcher: Matcher) -> None:
    assert matcher.match("bán lô đất thổ cư 100m2, ai có nhu cầu alo em").kind == "none"


def test_asked_words_leave_out_the_story_and_the_purpose() -> None:
    words = clause_words("vợ tôi nằm viện, tôi muốn xin giấy xác nhận để nộp bệnh viện thì làm sao")
    assert asked_words(words) == ["toi", "muon", "xin", "giay", "xac", "nhan"]


def test_a_topic_spelled_otherwise_in_scope_is_dropped() -> None:
    """Folded, "bố láo" is "cán bộ lao động" and "hôi thối" is "hỏi thời hạn": a topic the
    in-scope texts write with other diacritics cannot be told apart, so it never pulls."""
    families = {"insults": ("bố láo",), "nuisances": ("hôi thối",)}
    in_scope = ["cho xin số cán bộ lao động thương binh", "cho hỏi thời hạn khai tử"]
    topics = ForeignTopics(families, catalogue=[], in_scope=in_scope)
    assert topics.pull(clause_words("số cán bộ lao động xã")) == 1.0
    assert topics.pull(clause_words("cho hỏi thời hạn làm khai sinh")) == 1.0
    # Written with the topic's own diacritics, or none at all, in scope: still a topic.
    kept = ForeignTopics(families, catalogue=[], in_scope=["nhà bên hôi thối", "bo lao"])
    assert kept.pull(clause_words("cống nhà bên hôi thối quá")) == FOREIGN_TOPIC_PULL


def test_each_family_named_pulls_again() -> None:
    families = {"court": ("khởi kiện",), "taxes": ("thuế đất",), "rites": ("mâm cúng",)}
    topics = ForeignTopics(families, catalogue=["đăng ký khai sinh"], in_scope=[])
    assert topics.pull(clause_words("khởi kiện đòi thuế đất thì sao")) == pytest.approx(
        FOREIGN_TOPIC_PULL**2
    )
    story = topics.pull(clause_words("nhà tôi đang khởi kiện, mâm cúng rằm gồm gì"))
    assert story == pytest.approx(FOREIGN_TOPIC_PULL * STORY_TOPIC_PULL)
    assert topics.pull(clause_words("xin trích lục để nộp hồ sơ khởi kiện")) == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "lấy chồng Hàn thì đăng ký kết hôn ở đâu",
        "em cưới vợ Trung Quốc, làm giấy kết hôn cần gì",
    ],
)
def test_a_marriage_to_a_named_nationality_has_a_foreign_element(
    matcher: Matcher, text: str
) -> None:
    result = matcher.match(text)
    assert result.alternatives[0].id == "2.000806", result


def test_a_spouses_affair_is_no_foreigner(matcher: Matcher) -> None:
    result = matcher.match("chồng ngoại tình, ly hôn thì chia nhà thế nào")
    assert "2.000806" not in {a.id for a in result.alternatives}


def test_a_shops_hours_are_not_the_offices(matcher: Matcher) -> None:
    assert matcher.match("tiệm photo cạnh ủy ban chủ nhật có mở cửa không").kind == "none"
    assert matcher.match("ủy ban chủ nhật có mở cửa không").id == "office_hours"
