"""Find the procedure or intent a resident's message is about.

Every catalogue phrase (name, short name, alias, example, category name; intent phrases) is read
into weighted words once; a word weighs more the fewer procedures use it. A question is read the
same way (plus typo repair) and each phrase sharing a word with it is scored on two coverages:
how much of the phrase the question contains, and how much of the question the phrase explains.
The second makes "đăng ký lại khai sinh" prefer the phrase that also has "lại", and lets a
question that is mostly about something else ("giá xăng hôm nay") fall below the floor.
A long message is read clause by clause: the story before the question costs less when left
unexplained, so "mẹ tôi ngoài 80, ở với tôi, ..., phải làm sao" is not sunk by its story.
Advertisements that borrow procedure words are told apart by the lexicon's cues first.

A second opinion comes from a model learned at load time from the same phrases and the
residents' phrasings (learned.py): it proposes owners no phrase matched, makes an agreeing phrase
match surer, pulls down messages typical of out-of-scope ones, and keeps a phrase match from
being answered with certainty when it prefers another owner.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from app.catalogue.intents import IntentSet
from app.catalogue.models import Catalogue
from app.matching.analysis import (
    BREAKS,
    QUESTION_BREAK,
    QUESTION_WORDS,
    AdvertisingRule,
    Corrector,
    LexiconRules,
    Term,
    Words,
    clause_words,
    mark_old_age,
)
from app.matching.aspects import cue_phrases
from app.matching.cues import CueTable, rest
from app.matching.learned import (
    IN_SCOPE,
    NONE,
    SCOPE_SMOOTHING,
    LearnedScorer,
    Opinion,
)
from app.matching.normalize import normalize
from app.matching.places import ELSEWHERE_FOR, NamedLocalities, Phrases, other_places
from app.matching.result import Candidate, CandidateKind, MatchResult
from app.matching.topics import ForeignTopics

NAME_FACTOR = 1.0
EXAMPLE_FACTOR = 0.92
"""Examples are whole questions: a good hit on one is slightly weaker evidence than a name."""
CATEGORY_FACTOR = 0.7
"""A category word ("trợ cấp", "hộ tịch") points at every procedure in it, none in particular."""

IDF_POWER = 0.7
"""Flattens rarity: "khai sinh" is shared by a dozen procedures yet decides a question as much
as "thường trú" does."""
DETAIL_WEIGHT = 0.3
"""A detail word (phí, bao lâu, ở đâu) weighs about a third of the commonest topic word."""
POSITION_DECAY = 0.4
"""Residents name the topic first ("làm khai sinh có cần sổ hộ khẩu không"), so a question's
last word counts this much less than its first. Counted within the clauses that ask: a story
told before them does not push the question's words down."""
ASIDE_FACTOR = 0.5
"""Words after "để" (a purpose) count half: they say why, not what."""
STORY_FACTOR = 0.5
"""Words in a clause before (or after) the one that asks count this much: the story around a
question gives context, but leaving it unexplained must not sink the answer."""
QUESTION_COVERAGE_POWER: Mapping[CandidateKind, float] = {"procedure": 0.5, "intent": 1.0}
"""What an unexplained rest of the question costs. Questions about a procedure ramble ("bé nhà
em sinh được 10 ngày rồi..."); an intent should explain nearly all of a message, or
"xin chào, bán nhà mặt phố" would pass for a greeting."""

NONE_BELOW = 0.5
INTENT_FROM = 0.55
"""An intent scoring below this is no candidate at all: a clarification offers procedures, and a
half-matched intent word ("bán điện thoại cũ") is no reason to talk about the ward's phones."""
CONFIDENT_FROM = 0.65
CONFIDENT_MARGIN = 0.92
"""Confident only when the runner-up scores below this fraction of the best."""
ALTERNATIVE_RATIO = 0.7
"""Alternatives shown are those scoring at least this fraction of the best."""
MAX_ALTERNATIVES = 4

LEARNED_AGREEMENT = 0.1
"""A phrase match gains this much times the learned scorer's probability for its owner: words
typical of the owner make the match surer (0.6, a clarification, becomes an answer)."""
LEARNED_ALONE = 0.6
"""An owner the learned scorer is sure of scores at least this times its probability, matched
phrase or not: enough to be offered (NONE_BELOW at p 0.83) and, for a non-social intent, to be
answered (INTENT_FROM at p 0.92), while a procedure no phrase matches is only ever asked about."""
LEARNED_NOTICED = 0.001
NONE_PULL = 0.5
"""A message typical of out-of-scope ones loses up to half of its phrase scores."""
VETO_FROM = 0.5
"""No confident answer when the learned scorer gives another owner (or none) this much: the
resident is asked instead."""

CUE_SCORE = 0.7
"""An intent one of whose cue rules (intents.yaml `cues`) fires, when no procedure is named,
scores at least this (less the out-of-scope pull): an answer, unless the learned scorer prefers
another owner."""

NAMED_FROM = NONE_BELOW * ALTERNATIVE_RATIO
"""A procedure phrase scoring this much names a procedure: no intent's cue rule then applies
("làm khai tử online trên vneid được không" asks about khai tử, online)."""

SURE_FROM = 0.8
LEARNED_SURE = 0.95
"""A procedure scoring below SURE_FROM is answered without asking only when the learned scorer
gives it at least LEARNED_SURE. On the phrasings (5-fold), a quarter of the answers scored
0.65-0.8 were wrong: this asks about those unless the words' statistics agree (wrong and
confident 5.6 -> 3.7%, clarified 27 -> 32%; blind sets: 1.2% and 0.8% wrong, 2 points more
clarified)."""

THANKS_INTENT = "thanks"
CHOICE_WORDS = frozenset({"hay", "hoac"})
"""Or: "tạm trú hay thường trú", "kết hôn hoặc ly hôn"."""

OFFICE_INTENTS = frozenset({"contact", "office_hours"})
"""Answered with the ward's own phone, address and hours: never for a message that names another
locality ("số điện thoại UBND xã Quỳnh Lưu bên Nghệ An", "phường Ninh Kiều ở Cần Thơ mấy giờ
mở cửa"; places.py)."""

RIVALS: tuple[frozenset[str], ...] = (frozenset({"thcs", "thpt"}),)
"""Words of which a message names one at a time, as the lexicon reads them (school levels: cấp 2,
lớp 6-9 are thcs; cấp 3, lớp 10-12 are thpt). A procedure whose phrases name only other members
than the message does is not its procedure: an upper-secondary transfer is not the
lower-secondary one, however much "chuyển trường" they share."""

SOCIAL_INTENTS = frozenset({"greeting", THANKS_INTENT})
"""Pleasantries around a question: "chào ad, cho hỏi làm khai sinh" is about khai sinh."""

MAX_WORDS = 80
"""Longer messages are cut: the topic is in the first words and latency stays bounded."""
LOWEST_USEFUL_SCORE = NONE_BELOW * ALTERNATIVE_RATIO
"""No phrase scoring below this can be an answer or an alternative, so none is scored."""
PROPOSALS_PER_WORD = 400
STORY_PROPOSALS = 100
"""A word only the story uses proposes fewer: a phrase made of story words alone rarely wins, and
a long story in a catalogue of thousands would otherwise score most of it (p99 10.3 -> 7.4 ms on
the 2,000-procedure bench with the blind sets' messages; the real catalogue never reaches 100)."""
TOPIC_WORD_USES = 2
"""A word counts as an out-of-scope topic (see _build_elsewhere) when this many out-of-scope
phrasings use it: a word one phrasing alone uses is as often a name or a fold ("kháng cáo" gave
"khang", "nguyện vọng" gave "nguyen": every Nguyễn and every Khang looked out of scope)."""
"""A word proposes at most this many phrases, those it is the largest part of. The real
catalogue (at most ~220 per word) never reaches the cap; in a catalogue of thousands a common
word ("giấy", "đăng ký") then skips the long phrases it is a small part of, which its rarer
neighbours in the question still propose."""


class _Ranking(NamedTuple):
    ranked: list[tuple[int, float]]
    """Owners by score, best first."""
    learned: Opinion | None
    """The learned scorer's opinion, when it had a say."""
    choice: bool
    """The message offers a choice between close procedures (CHOICE_WORDS)."""


@dataclass(frozen=True, slots=True)
class _Owner:
    kind: CandidateKind
    id: str


@dataclass(frozen=True, slots=True)
class _Source:
    owner: int
    factor: float
    text: str
    shared: bool = False
    """A category label, given to every procedure of the category."""


@dataclass(frozen=True, slots=True)
class _Phrase:
    owner: int
    weights: Mapping[str, float]
    total: float
    factor: float
    question_power: float
    topic_words: frozenset[str]
    """Words that count as explained besides the phrase's own. For an intent, every word only
    intents use: its phrases are fragments of one topic ("buổi trưa" + "tiếp dân")."""


def _weights(
    terms: Sequence[Term], idf: Mapping[str, float], unknown: float, decay: float = 0.0
) -> dict[str, float]:
    weights: dict[str, float] = {}
    # Position counts within the clauses that ask: a story before them does not push the
    # question's own words down.
    last = max(1, sum(1 for t in terms if not t.story) - 1)
    position = 0
    for term in terms:
        at = 0 if term.story else position
        position += 0 if term.story else 1
        weight = DETAIL_WEIGHT if term.detail else idf.get(term.word, unknown)
        weight *= (ASIDE_FACTOR if term.aside else 1.0) * (1 - decay * at / last)
        if weight > weights.get(term.word, 0.0):
            weights[term.word] = weight
    return weights


@dataclass(frozen=True, slots=True)
class _Query:
    weights: Mapping[str, float]
    """What each word weighs as evidence for a phrase that holds it."""
    costs: Mapping[str, float]
    """What each word costs when no phrase explains it: its weight, less in a story clause."""
    total_cost: float


def _query(terms: Sequence[Term], idf: Mapping[str, float], unknown: float) -> _Query:
    weights = _weights(terms, idf, unknown, POSITION_DECAY)
    told = {t.word for t in terms if not t.story}
    costs = {w: v if w in told else v * STORY_FACTOR for w, v in weights.items()}
    return _Query(weights, costs, sum(costs.values()))


def _sources(catalogue: Catalogue, intents: IntentSet) -> tuple[list[_Owner], list[_Source]]:
    owners: list[_Owner] = []
    sources: list[_Source] = []
    for procedure in catalogue.procedures:
        index = len(owners)
        owners.append(_Owner("procedure", procedure.code))
        names = (procedure.name, procedure.short_name, *procedure.aliases)
        sources.extend(_Source(index, NAME_FACTOR, text) for text in names)
        sources.extend(_Source(index, EXAMPLE_FACTOR, text) for text in procedure.examples)
        category = catalogue.category(procedure.category)
        if category is not None:
            labels = (category.name, *category.aliases)
            sources.extend(_Source(index, CATEGORY_FACTOR, text, shared=True) for text in labels)
    for intent in intents.intents:
        index = len(owners)
        owners.append(_Owner("intent", intent.id))
        sources.extend(_Source(index, NAME_FACTOR, text) for text in intent.phrases)
    return owners, sources


def _coverage(phrase: _Phrase, query: _Query) -> float:
    """Phrase coverage times question coverage. The question's coverage is the weight it
    explains against that plus the cost of what it leaves unexplained."""
    weights, costs = query.weights, query.costs
    in_phrase = explained = explained_cost = 0.0
    for word, weight in phrase.weights.items():
        if word in weights:
            in_phrase += weight
            explained += weights[word]
            explained_cost += costs[word]
    if phrase.topic_words:
        for word in phrase.topic_words.intersection(weights).difference(phrase.weights):
            explained += weights[word]
            explained_cost += costs[word]
    if explained <= 0:
        return 0.0
    coverage = in_phrase / phrase.total
    asked = explained / (explained + query.total_cost - explained_cost)
    return phrase.factor * coverage * math.pow(asked, phrase.question_power)


class Matcher:
    """Built once from the content, immutable afterwards; `match` is pure and thread-safe."""

    def __init__(self, catalogue: Catalogue, intents: IntentSet) -> None:
        self._rules = LexiconRules(intents.lexicon)
        self._advertising = AdvertisingRule(intents.lexicon, self._rules)
        owners, sources = _sources(catalogue, intents)
        self._owners = tuple(owners)
        # Each phrase read once: its words for the learned scorer, its terms for the phrases.
        read = [self._rules.read(normalize(s.text).split()) for s in sources]
        analysed = [(s, self._rules.terms(words)) for s, words in zip(sources, read, strict=True)]

        # Rarity is counted per owner over its own phrases: a category word is shared by design.
        owner_words: list[set[str]] = [set() for _ in owners]
        for source, terms in analysed:
            if not source.shared:
                owner_words[source.owner].update(t.word for t in terms)
        frequency = Counter(w for words in owner_words for w in words)
        self._idf = {w: math.log(1 + len(owners) / df) ** IDF_POWER for w, df in frequency.items()}
        # A word the catalogue never uses is as telling as the rarest one it does.
        self._unknown_idf = math.log(1 + len(owners)) ** IDF_POWER

        procedure_words = set().union(
            *(words for o, words in zip(owners, owner_words, strict=True) if o.kind == "procedure")
        )
        phrases: list[_Phrase] = []
        postings: dict[CandidateKind, dict[str, list[tuple[float, int]]]] = {
            "procedure": {},
            "intent": {},
        }
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for source, terms in analysed:
            key = (source.owner, tuple(t.word for t in terms))
            if not terms or key in seen:
                continue
            seen.add(key)
            owner = owners[source.owner]
            weights = _weights(terms, self._idf, self._unknown_idf)
            topic_words = owner_words[source.owner] - procedure_words
            total = sum(weights.values())
            for word, weight in weights.items():
                postings[owner.kind].setdefault(word, []).append((weight / total, len(phrases)))
            phrases.append(
                _Phrase(
                    owner=source.owner,
                    weights=weights,
                    total=total,
                    factor=source.factor,
                    question_power=QUESTION_COVERAGE_POWER[owner.kind],
                    topic_words=frozenset(topic_words if owner.kind == "intent" else ()),
                )
            )
        self._phrases = tuple(phrases)
        # Each word's phrases, those it is the largest part of first.
        self._postings = {
            kind: {
                w: tuple(pid for _, pid in sorted(p, key=lambda item: (-item[0], item[1])))
                for w, p in by_word.items()
            }
            for kind, by_word in postings.items()
        }

        self._learned, self._scope, self._taught = self._build_learned(
            sources, read, owners, intents
        )
        self._cues, self._pleasantries = self._build_cues(owners, intents)
        self._rival_words: frozenset[str] = frozenset().union(*RIVALS)
        self._rivals = {
            owner: frozenset(words & self._rival_words)
            for owner, words in enumerate(owner_words)
            if words & self._rival_words
        }
        self._elsewhere, self._elsewhere_postings = self._build_elsewhere(
            intents, set().union(*owner_words)
        )

        self._names: dict[str, str] = {}
        for procedure in catalogue.procedures:
            for name in (procedure.name, procedure.short_name):
                self._names.setdefault(normalize(name), procedure.code)
        # A phrase written in the catalogue, asked word for word, is the phrase scorer's alone:
        # an admin who adds a misunderstood question as an example has fixed it.
        verbatim: dict[str, set[int]] = {}
        for source in sources:
            if not source.shared:
                verbatim.setdefault(normalize(source.text), set()).add(source.owner)
        self._verbatim = frozenset(t for t, found in verbatim.items() if len(found) == 1)
        self._corrector = self._build_corrector(sources)
        phrasings = intents.phrasings
        self._foreign = ForeignTopics(
            intents.lexicon.elsewhere,
            (s.text for s in sources),
            itertools.chain(
                (s.text for s in sources),
                *phrasings.procedures.values(),
                *phrasings.intents.values(),
            ),
        )
        home = (catalogue.ward.name, catalogue.ward.province)
        places = other_places(home)
        self._named = NamedLocalities(home)
        self._not_for: dict[int, Phrases] = {}
        """An intent -> what a message it is not about names (another place, service...)."""
        self._offices: set[int] = set()
        """The OFFICE_INTENTS' owners: a ward, commune or district named is not ours either."""
        for index, owner in enumerate(owners):
            if owner.kind != "intent":
                continue
            if owner.id in OFFICE_INTENTS:
                self._offices.add(index)
                also = ELSEWHERE_FOR.get(owner.id, ())
                self._not_for[index] = other_places(home, also=also) if also else places
            elif owner.id in ELSEWHERE_FOR:
                self._not_for[index] = Phrases(ELSEWHERE_FOR[owner.id])

    def _build_learned(
        self,
        sources: Sequence[_Source],
        read: Sequence[Words],
        owners: Sequence[_Owner],
        intents: IntentSet,
    ) -> tuple[LearnedScorer, LearnedScorer, frozenset[int]]:
        """The learned scorers: the owners' model, from every phrase but the shared category
        labels (`read`: each source's words) and the residents' phrasings; the scope model, all
        of those against the out-of-scope phrasings; and the owners that have phrasings
        (taught)."""
        documents = [
            (s.owner, words) for s, words in zip(sources, read, strict=True) if not s.shared
        ]
        index: dict[tuple[CandidateKind, str], int] = {
            (o.kind, o.id): i for i, o in enumerate(owners)
        }
        phrasings = intents.phrasings
        taught: set[int] = set()
        by_kind: dict[CandidateKind, Mapping[str, Sequence[str]]] = {
            "procedure": phrasings.procedures,
            "intent": phrasings.intents,
        }
        for kind, by_id in by_kind.items():
            for owner_id, lines in by_id.items():
                owner = index.get((kind, owner_id))
                if owner is None or not lines:
                    continue  # a catalogue being previewed may lack a procedure
                taught.add(owner)
                documents.extend((owner, self._rules.read(clause_words(t))) for t in lines)
        stopwords = self._rules.stopwords
        elsewhere = [(NONE, self._rules.read(clause_words(t))) for t in phrasings.none]
        in_scope = [(IN_SCOPE, words) for _, words in documents]
        scope = LearnedScorer(in_scope + elsewhere, 1, stopwords, SCOPE_SMOOTHING, priors=True)
        return LearnedScorer(documents, len(owners), stopwords), scope, frozenset(taught)

    def _build_elsewhere(
        self, intents: IntentSet, catalogue_words: set[str]
    ) -> tuple[tuple[_Phrase, ...], dict[str, tuple[int, ...]]]:
        """The out-of-scope phrasings as phrases of their own (owner NONE): a message that one
        of them explains better than any procedure or intent is out of scope. Words only they
        use (visa, hộ chiếu, tòa án; in TOPIC_WORD_USES of them) count as explained, as an intent's
        own words do."""
        analysed = [self._rules.analyse(text) for text in intents.phrasings.none]
        uses = Counter(w for terms in analysed for w in {t.word for t in terms})
        own = {w for w, n in uses.items() if n >= TOPIC_WORD_USES} - catalogue_words
        phrases: list[_Phrase] = []
        postings: dict[str, list[int]] = {}
        for terms in analysed:
            if not terms:
                continue
            weights = _weights(terms, self._idf, self._unknown_idf)
            for word in weights:
                postings.setdefault(word, []).append(len(phrases))
            phrases.append(
                _Phrase(
                    owner=NONE,
                    weights=weights,
                    total=sum(weights.values()),
                    factor=NAME_FACTOR,
                    question_power=QUESTION_COVERAGE_POWER["intent"],
                    topic_words=frozenset(own),
                )
            )
        return tuple(phrases), {w: tuple(pids) for w, pids in postings.items()}

    def _build_cues(
        self, owners: Sequence[_Owner], intents: IntentSet
    ) -> tuple[CueTable, dict[int, frozenset[str]]]:
        """The intents' cue rules; and for each social intent, the words of its phrases and
        phrasings: a greeting or a thanks with a cue must say nothing else."""
        index = {o.id: i for i, o in enumerate(owners) if o.kind == "intent"}
        table = CueTable({index[i.id]: i.cue_rules for i in intents.intents}, self._rules.read)
        pleasantries: dict[int, frozenset[str]] = {}
        for intent in intents.intents:
            if intent.id in SOCIAL_INTENTS:
                texts = (*intent.phrases, *intents.phrasings.intents.get(intent.id, ()))
                words = {w for t in texts for w in self._rules.read(clause_words(t))}
                pleasantries[index[intent.id]] = frozenset(words)
        return table, pleasantries

    def _build_corrector(self, sources: Sequence[_Source]) -> Corrector:
        """Typo repair learns the catalogue's words and word pairs as written and as rewritten."""
        vocabulary: Counter[str] = Counter()
        known = self._rules.known_words()
        pairs = self._rules.bigrams()
        for cue in cue_phrases():
            known.update(cue)
            pairs.update(itertools.pairwise(cue))
        for source in sources:
            raw = tuple(normalize(source.text).split())
            expanded = self._rules.readings(raw)[0].words
            for words in (raw, expanded, self._rules.rewrite(expanded)):
                vocabulary.update(words)
                pairs.update(itertools.pairwise(words))
        return Corrector(vocabulary, known, pairs, self._rules.abbreviations)

    def lookup_name(self, text: str) -> str | None:
        """The code of the procedure whose short name or name is exactly `text` (normalised)."""
        return self._names.get(normalize(text))

    def match(self, text: str) -> MatchResult:
        normalised = normalize(text)
        if not normalised:
            return MatchResult(text=text, kind="none", id=None, score=0.0)
        # A clarification button sends the short name back: answer it without doubt.
        code = self._names.get(normalised)
        if code is not None:
            only = (Candidate("procedure", code, 100.0),)
            return MatchResult(text, "procedure", code, 100.0, alternatives=only)
        words = clause_words(text)
        if self._advertising.is_advertising(self._rules.rewrite(words)):
            return MatchResult(text=text, kind="none", id=None, score=0.0)
        ranking = self._rank(words[:MAX_WORDS], normalised in self._verbatim, text)
        return self._decide(text, ranking)

    def _rank(self, words: Sequence[str], verbatim: bool = False, text: str = "") -> _Ranking:
        """Owners by score, best first, and the learned scorer's probabilities when it had a
        say. Each owner scores its best phrase under any reading, then the learned opinion."""
        best: dict[int, float] = {}
        floor = LOWEST_USEFUL_SCORE
        likeliest: Words = ()
        elsewhere = 0.0
        for reading in self._rules.readings(mark_old_age(self._corrector.correct(words))):
            rewritten = self._rules.rewrite(reading.words)
            likeliest = likeliest or rewritten
            terms = self._rules.terms(rewritten)
            query = _query(terms, self._idf, self._unknown_idf)
            floor = self._score(query, reading.prior, best, floor)
            elsewhere = max(elsewhere, reading.prior * self._elsewhere_score(query))
        learned = None if verbatim else self._learned_opinion(best, likeliest)
        scores = _fuse(best, learned) if learned is not None else dict(best)
        if not self._names_a_procedure(best, learned):
            self._add_cues(scores, likeliest, learned)
        self._drop_social_with_a_topic(scores, likeliest)
        self._drop_rivals(scores, likeliest)
        self._drop_elsewhere(scores, words, text)
        pull = self._foreign.pull(words)
        if pull < 1.0:
            scores = {o: s * pull for o, s in scores.items()}
        ranked = sorted(
            ((o, s) for o, s in scores.items() if s >= INTENT_FROM or not self._is_intent(o)),
            key=lambda item: (-item[1], item[0]),
        )
        choice = self._offers_a_choice(likeliest, best)
        if elsewhere >= LOWEST_USEFUL_SCORE and (not ranked or elsewhere >= ranked[0][1]):
            return _Ranking([], learned, choice)
        if ranked and self._is_social(ranked[0][0]):
            topical = [(o, s) for o, s in ranked if not self._is_social(o)]
            if topical and topical[0][1] >= NONE_BELOW:
                return _Ranking(topical, learned, choice)
        return _Ranking(ranked, learned, choice)

    def _offers_a_choice(self, words: Words, phrase_scores: Mapping[int, float]) -> bool:
        """ "tạm trú hay thường trú": the message says "or" and its two best procedure phrases
        are as close as a clarification's options. The resident is asked back, whichever the
        learned scorer prefers."""
        if CHOICE_WORDS.isdisjoint(words):
            return False
        procedures = (s for o, s in phrase_scores.items() if not self._is_intent(o))
        two = heapq.nlargest(2, procedures)
        return len(two) == 2 and two[1] >= CONFIDENT_MARGIN * two[0]

    def _learned_opinion(self, phrase_scores: Mapping[int, float], words: Words) -> Opinion | None:
        """The learned scorers' probabilities, or None when the best phrase match belongs to an
        owner they were not taught (no phrasings): it would only pull towards the taught ones."""
        if phrase_scores:
            top = max(phrase_scores, key=phrase_scores.__getitem__)
            if top not in self._taught:
                return None
        return Opinion(self._learned.posterior(words), self._scope.posterior(words))

    def _names_a_procedure(
        self, phrase_scores: Mapping[int, float], learned: Opinion | None
    ) -> bool:
        """A phrase of a procedure matches, or the learned scorer sees one described."""
        if any(s >= NAMED_FROM and not self._is_intent(o) for o, s in phrase_scores.items()):
            return True
        if learned is None:
            return False
        preferred, p = learned.preferred()
        return preferred != NONE and not self._is_intent(preferred) and p >= VETO_FROM

    def _add_cues(self, scores: dict[int, float], words: Words, learned: Opinion | None) -> None:
        """Raise the intent whose cue rules fire (the caller checked that no procedure is named);
        of several, the one scoring best already. A social intent's cue counts only when the
        message says nothing else (see _only_pleasantries)."""
        fired = [
            owner
            for owner, covered in self._cues.fired(words).items()
            if owner not in self._pleasantries or self._only_pleasantries(owner, words, covered)
        ]
        if not fired:
            return
        owner = min(fired, key=lambda o: (-scores.get(o, 0.0), o))
        cue_score = CUE_SCORE * (1 - NONE_PULL * learned[NONE]) if learned else CUE_SCORE
        scores[owner] = max(scores.get(owner, 0.0), cue_score)

    def _drop_elsewhere(self, scores: dict[int, float], words: Sequence[str], text: str) -> None:
        """Another locality's office is not ours (OFFICE_INTENTS: a province's name, or a ward,
        commune or district named in `text`, the message as written); another service's account
        or a company's bill is not the ward's online services, another agency's phone or hours
        not the ward's, a job not a question for its officers (places.ELSEWHERE_FOR)."""
        named: bool | None = None
        for owner, elsewhere in self._not_for.items():
            if owner not in scores:
                continue
            if elsewhere.found(words):
                del scores[owner]
            elif owner in self._offices:
                named = self._named.found(text, words) if named is None else named
                if named:
                    del scores[owner]

    def _drop_rivals(self, scores: dict[int, float], words: Words) -> None:
        """A message naming one of RIVALS is not about a procedure whose phrases name only
        other members of the same group."""
        named = self._rival_words.intersection(words)
        if not named:
            return
        for group in RIVALS:
            asked = named & group
            for owner, own_words in self._rivals.items():
                own = own_words & group
                if asked and own and not own & asked and owner in scores:
                    del scores[owner]

    def _drop_social_with_a_topic(self, scores: dict[int, float], words: Words) -> None:
        """A greeting or a thanks is one only when the message says nothing else, whether its
        phrases or its cue found it ("xin chào, bán nhà mặt phố" is no greeting)."""
        fired = self._cues.fired(words)
        for owner in [o for o in scores if o in self._pleasantries]:
            if not self._only_pleasantries(owner, words, fired.get(owner, set())):
                del scores[owner]

    def _only_pleasantries(self, owner: int, words: Words, covered: set[int]) -> bool:
        """The rest of the message is made of the social intent's own words ("xin chào, bán nhà
        mặt phố" is no greeting); or, for thanks, it opens the message and nothing is asked
        ("cảm ơn, thông tin rất hữu ích": what follows a thanks is praise, not a topic)."""
        ignored = self._rules.stopwords | BREAKS
        if not rest(words, covered, ignored) - self._pleasantries[owner]:
            return True
        if not covered:
            return False
        opens = all(w in ignored for w in words[: min(covered)])
        asks = any(w in QUESTION_WORDS or w == QUESTION_BREAK for w in words)
        return self._owners[owner].id == THANKS_INTENT and opens and not asks

    def _score(self, query: _Query, prior: float, best: dict[int, float], floor: float) -> float:
        """Score into `best` every phrase that can reach `floor`; returns the raised floor.

        Intent phrases are few and all scored. Procedure phrases are proposed by the question's
        words, heaviest first, and the reading stops once the words left could not explain
        enough of the question for any phrase made only of them to reach the floor. The floor
        rises with the best score, since an alternative must reach ALTERNATIVE_RATIO of it.
        """
        weights = query.weights
        if query.total_cost <= 0:
            return floor
        intent_phrases = {p for w in weights for p in self._postings["intent"].get(w, ())}
        for pid in sorted(intent_phrases):
            self._keep(pid, prior * self._phrase_score(pid, query), best)
        procedures = self._postings["procedure"]
        power = QUESTION_COVERAGE_POWER["procedure"]
        unread_weight, unread_cost = sum(weights.values()), query.total_cost
        seen: set[int] = set()
        for word in sorted(weights, key=lambda w: (-weights[w], w)):
            # At best every word not yet read is explained and every word read is not.
            reachable = unread_weight / (unread_weight + query.total_cost - unread_cost)
            if prior * math.pow(reachable, power) < floor:
                break
            unread_weight -= weights[word]
            unread_cost -= query.costs[word]
            cap = PROPOSALS_PER_WORD if query.costs[word] >= weights[word] else STORY_PROPOSALS
            for pid in procedures.get(word, ())[:cap]:
                if pid in seen:
                    continue
                seen.add(pid)
                score = prior * self._phrase_score(pid, query)
                if self._keep(pid, score, best):
                    floor = max(floor, ALTERNATIVE_RATIO * score)
        return floor

    def _elsewhere_score(self, query: _Query) -> float:
        """The best out-of-scope phrasing's score."""
        pids = {pid for w in query.weights for pid in self._elsewhere_postings.get(w, ())}
        return max((_coverage(self._elsewhere[pid], query) for pid in pids), default=0.0)

    def _keep(self, pid: int, score: float, best: dict[int, float]) -> bool:
        owner = self._phrases[pid].owner
        if score <= best.get(owner, 0.0):
            return False
        best[owner] = score
        return True

    def _phrase_score(self, pid: int, query: _Query) -> float:
        return _coverage(self._phrases[pid], query)

    def _is_intent(self, owner: int) -> bool:
        return self._owners[owner].kind == "intent"

    def _is_social(self, owner: int) -> bool:
        o = self._owners[owner]
        return o.kind == "intent" and o.id in SOCIAL_INTENTS

    def _candidate(self, owner: int, score: float) -> Candidate:
        o = self._owners[owner]
        return Candidate(o.kind, o.id, round(100 * score, 2))

    def _decide(self, text: str, ranking: _Ranking) -> MatchResult:
        ranked, learned = ranking.ranked, ranking.learned
        best = ranked[0][1] if ranked else 0.0
        score = round(100 * best, 2)
        if best < NONE_BELOW:
            floor = NONE_BELOW * ALTERNATIVE_RATIO
            near = tuple(self._candidate(o, s) for o, s in ranked[:MAX_ALTERNATIVES] if s >= floor)
            return MatchResult(text, "none", None, score, alternatives=near)
        top = ranked[0][0]
        alternatives = tuple(
            self._candidate(o, s)
            for o, s in ranked[:MAX_ALTERNATIVES]
            if s >= best * ALTERNATIVE_RATIO
        )
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        # An intent is confident from the score that admits it at all: asking "did you mean:
        # office hours?" costs the resident a turn that the answer itself would not.
        quick = self._is_intent(top) and not self._is_social(top)
        confident_from = INTENT_FROM if quick else CONFIDENT_FROM
        if (
            best >= confident_from
            and runner_up < best * CONFIDENT_MARGIN
            and not _vetoed(top, learned)
            and (self._is_intent(top) or best >= SURE_FROM or _learned_sure(top, learned))
            and (self._is_intent(top) or not ranking.choice)
        ):
            owner = self._owners[top]
            return MatchResult(text, owner.kind, owner.id, score, alternatives=alternatives)
        if self._is_social(top):
            # "Did you mean: hello?" helps nobody: a pleasantry is answered or left alone.
            return MatchResult(text, "none", None, score)
        return MatchResult(text, "clarify", None, score, alternatives=alternatives)


def _fuse(phrase: Mapping[int, float], learned: Opinion) -> dict[int, float]:
    """Phrase scores with the learned opinion: agreement adds, an out-of-scope look pulls down,
    and an owner the learned scorer is sure of is proposed even when no phrase matched it."""
    pull = 1 - NONE_PULL * learned[NONE]
    # Below LEARNED_NOTICED an owner's bonus would move its score by less than 0.0001.
    agreeing = dict(learned.likely(LEARNED_NOTICED))
    fused = {
        o: min(1.0, s + LEARNED_AGREEMENT * agreeing.get(o, 0.0)) * pull for o, s in phrase.items()
    }
    for owner, p in learned.likely(LOWEST_USEFUL_SCORE / LEARNED_ALONE):
        alone = LEARNED_ALONE * p
        if owner != NONE and alone > fused.get(owner, 0.0):
            fused[owner] = alone
    return fused


def _learned_sure(owner: int, learned: Opinion | None) -> bool:
    return learned is None or learned[owner] >= LEARNED_SURE


def _vetoed(owner: int, learned: Opinion | None) -> bool:
    """The learned scorer prefers another owner, or none, clearly enough to ask first."""
    if learned is None:
        return False
    preferred, p = learned.preferred()
    return preferred != owner and p >= VETO_FROM
