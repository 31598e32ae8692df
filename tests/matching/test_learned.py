"""The learned scorer: word statistics per owner, out-of-scope as a class, and its say in the
matcher (proposing, confirming, vetoing), which it gives up where it was not taught."""

from __future__ import annotations

import math

import pytest

from app.catalogue import Content
from app.catalogue.intents import Phrasings
from app.matching.learned import IN_SCOPE, NONE, LearnedScorer, Opinion, features
from app.matching.matcher import Matcher

STOPWORDS = frozenset({"cho", "hoi", "o", "dau"})


def scorer() -> LearnedScorer:
    documents = [
        (0, ("khai", "sinh", "cho", "con")),
        (0, ("be", "moi", "sinh", "|", "lam", "giay")),
        (1, ("ket", "hon")),
        (1, ("lay", "chong", "can", "giay", "gi")),
        (NONE, ("gia", "vang", "hom", "nay")),
        (NONE, ("xo", "so", "hom", "nay")),
    ]
    return LearnedScorer(documents, owners=3, stopwords=STOPWORDS)


def test_features_are_meaningful_words_and_pairs_within_a_clause() -> None:
    found = features(("cho", "hoi", "khai", "sinh", "|", "o", "dau"), STOPWORDS)
    assert "khai" in found and "cho" not in found
    assert {"cho\x1fhoi", "khai\x1fsinh", "o\x1fdau"} <= found
    assert "sinh\x1f|" not in found and "sinh\x1fo" not in found


def test_posterior_prefers_the_owner_whose_words_these_are() -> None:
    posterior = scorer().posterior(("be", "moi", "sinh", "can", "gi"))
    every = posterior.likely(0.0)
    assert {o for o, _ in every} == {0, 1, 2, NONE}
    assert sum(p for _, p in every) == pytest.approx(1.0)
    assert posterior.preferred()[0] == 0 == every[0][0]


def test_posterior_is_naive_bayes_worked_out_for_every_owner() -> None:
    learned = scorer()
    words = ("lay", "chong", "can", "giay", "khai", "sinh", "xyz")
    found = features(words, STOPWORDS)
    documents = {0: [("khai", "sinh", "cho", "con"), ("be", "moi", "sinh", "|", "lam", "giay")]}
    documents |= {1: [("ket", "hon"), ("lay", "chong", "can", "giay", "gi")]}
    documents |= {2: [], NONE: [("gia", "vang", "hom", "nay"), ("xo", "so", "hom", "nay")]}
    counts = {o: [f for d in docs for f in features(d, STOPWORDS)] for o, docs in documents.items()}
    vocabulary = {f for fs in counts.values() for f in fs}
    known = found & vocabulary
    log_likelihood = {
        o: sum(math.log((fs.count(f) + 1) / (len(fs) + len(vocabulary))) for f in known)
        for o, fs in counts.items()
    }
    total = sum(math.exp(v) for v in log_likelihood.values())
    posterior = learned.posterior(words)
    for owner, value in log_likelihood.items():
        assert posterior[owner] == pytest.approx(math.exp(value) / total)


def test_out_of_scope_is_a_class_of_its_own() -> None:
    posterior = scorer().posterior(("gia", "vang", "hom", "nay", "bao", "nhieu"))
    assert posterior.preferred()[0] == NONE


def test_unknown_words_give_no_opinion() -> None:
    every = [p for _, p in scorer().posterior(("qwerty", "zzz")).likely(0.0)]
    assert len(every) == 4
    assert max(every) == pytest.approx(min(every))


def test_a_feature_keeps_the_owners_it_is_most_typical_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.matching.learned.MAX_OWNERS_PER_FEATURE", 1)
    documents = [(0, ("giay",)), (1, ("giay",)), (1, ("giay", "to"))]
    learned = LearnedScorer(documents, owners=2, stopwords=frozenset())
    assert learned.posterior(("giay",))[1] > learned.posterior(("giay",))[0]


def _without_phrasings(content: Content, *codes: str) -> Matcher:
    phrasings = content.intents.phrasings
    kept = {c: lines for c, lines in phrasings.procedures.items() if c not in codes}
    taught = phrasings.model_copy(update={"procedures": kept})
    return Matcher(content.catalogue, content.intents.model_copy(update={"phrasings": taught}))


# A life situation no phrase of the catalogue holds: only the phrasings' words tell it.
SITUATION = (
    "chồng tôi vừa mất, tôi già yếu không đi được, có cán bộ nào xuống nhà làm giấy cho ông không"
)


def test_the_learned_scorer_proposes_what_no_phrase_matched(
    content: Content, matcher: Matcher
) -> None:
    result = matcher.match(SITUATION)
    assert result.kind == "clarify"
    assert result.alternatives[0].id == "1.000419"  # khai tử lưu động
    untaught = Matcher(
        content.catalogue, content.intents.model_copy(update={"phrasings": Phrasings()})
    )
    assert untaught.match(SITUATION).kind == "none"


def test_intents_asked_in_other_words(matcher: Matcher) -> None:
    result = matcher.match("chiều mấy giờ thì nghỉ nhận hồ sơ")
    assert (result.kind, result.id) == ("intent", "office_hours")


def test_a_procedure_without_phrasings_is_decided_by_its_phrases(content: Content) -> None:
    # Without its phrasings, khai tử lưu động is left to the phrase scorer: the learned scorer,
    # which knows khai tử's phrasings well, neither vetoes nor outranks it.
    matcher = _without_phrasings(content, "1.000419")
    result = matcher.match("đăng ký khai tử lưu động")
    assert (result.kind, result.id) == ("procedure", "1.000419")


def test_phrasings_of_a_procedure_the_catalogue_lacks_are_ignored(content: Content) -> None:
    # A catalogue being previewed may lack a procedure the phrasings name.
    catalogue = content.catalogue.model_copy(
        update={"procedures": content.catalogue.procedures[1:]}
    )
    result = Matcher(catalogue, content.intents).match("làm giấy khai sinh cho con")
    assert result.kind in ("procedure", "clarify")


def test_a_message_an_out_of_scope_phrasing_explains_best_is_none(
    content: Content, matcher: Matcher
) -> None:
    text = "vợ tôi người Lào muốn nhập quốc tịch Việt Nam thì làm sao"
    assert matcher.match(text).kind == "none"
    phrasings = content.intents.phrasings.model_copy(update={"none": ()})
    without = Matcher(
        content.catalogue, content.intents.model_copy(update={"phrasings": phrasings})
    )
    assert without.match(text).alternatives[0].id == "1.001766"  # khai tử, nước ngoài


def test_a_catalogue_phrase_asked_word_for_word_is_the_phrase_scorers(matcher: Matcher) -> None:
    # The learned scorer prefers the paper residents ask for "để kết hôn"; the example, written
    # by an admin to settle the question, wins.
    result = matcher.match("dang ky ket hon co can giay xac nhan doc than khong")
    assert (result.kind, result.id) == ("procedure", "1.000894")


def test_a_model_taught_no_out_of_scope_document_never_says_none() -> None:
    learned = LearnedScorer([(0, ("khai", "sinh")), (1, ("ket", "hon"))], 2, STOPWORDS)
    posterior = learned.posterior(("gia", "vang"))
    assert posterior[NONE] == 0.0
    assert NONE not in {o for o, _ in posterior.likely(0.0)}


def test_the_opinion_takes_none_from_the_scope_model_and_shares_the_rest() -> None:
    documents = [
        (0, ("khai", "sinh", "cho", "con")),
        (0, ("be", "moi", "sinh", "|", "lam", "giay")),
        (1, ("ket", "hon")),
        (1, ("lay", "chong", "can", "giay", "gi")),
    ]
    elsewhere = [(NONE, ("gia", "vang", "hom", "nay")), (NONE, ("xo", "so", "hom", "nay"))]
    owners = LearnedScorer(documents, 2, STOPWORDS)
    scope = LearnedScorer([(IN_SCOPE, w) for _, w in documents] + elsewhere, 1, STOPWORDS)
    for words in [("gia", "vang", "hom", "nay"), ("khai", "sinh", "hom", "nay")]:
        opinion = Opinion(owners.posterior(words), scope.posterior(words))
        in_scope = owners.posterior(words)
        assert opinion[NONE] == pytest.approx(scope.posterior(words)[NONE])
        for owner in (0, 1):
            assert opinion[owner] == pytest.approx((1 - opinion[NONE]) * in_scope[owner])
        every = opinion.likely(0.0)
        assert sum(p for _, p in every) == pytest.approx(1.0)
        assert opinion.preferred() == every[0]
    assert (
        Opinion(owners.posterior(("xo", "so")), scope.posterior(("xo", "so"))).preferred()[0]
        == NONE
    )


def test_a_word_one_out_of_scope_phrasing_uses_is_no_out_of_scope_topic(content: Content) -> None:
    # "kháng cáo" folds to "khang": one phrasing of it must not make every Khang out of scope.
    phrasings = content.intents.phrasings
    more = (*phrasings.none, "muốn kháng cáo bản án sơ thẩm", "nguyện vọng xét tuyển đại học")
    taught = phrasings.model_copy(update={"none": more})
    matcher = Matcher(content.catalogue, content.intents.model_copy(update={"phrasings": taught}))
    text = (
        "Con em tên trong khai sinh là Nguyễn Văn Tý, muốn đổi thành Nguyễn Minh Khang cho đẹp, "
        "có được không ạ"
    )
    result = matcher.match(text)
    assert result.kind == "clarify"
    assert result.alternatives[0].id == "1.004859"  # thay đổi, cải chính hộ tịch
