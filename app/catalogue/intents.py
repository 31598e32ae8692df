"""Built-in intents and the lexicon, as loaded from the intents/ folder."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from app.catalogue.models import Frozen, NonEmpty

REQUIRED_INTENTS = ("greeting", "thanks", "help", "office_hours", "contact", "online_services")


class Intent(Frozen):
    """A conversational intent with its trigger phrases and a Jinja2 answer template.

    The template sees `ward` (the WardProfile) and helper values prepared by the dialogue.
    """

    id: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    description: NonEmpty
    phrases: tuple[NonEmpty, ...] = Field(min_length=1)
    cues: tuple[NonEmpty, ...] = ()
    """Word families that ask for this intent when no procedure is named: each rule lists
    groups joined by `+`, each group its words joined by `|`, and fires when every group has a
    word in the message ("mấy giờ | sáng | chiều + mở cửa | đóng cửa | nghỉ")."""
    answer: NonEmpty

    @field_validator("cues")
    @classmethod
    def _cue_groups(cls, cues: tuple[str, ...]) -> tuple[str, ...]:
        for rule in cues:
            if any(not word.strip() for group in rule.split("+") for word in group.split("|")):
                raise ValueError(f"an empty group or word in the cue rule {rule!r}")
        return cues

    @property
    def cue_rules(self) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """Each rule's groups, each group's words or phrases."""
        return tuple(
            tuple(tuple(w.strip() for w in group.split("|")) for group in rule.split("+"))
            for rule in self.cues
        )


class AdvertisingCues(Frozen):
    """Cues of an advertisement. A leading `^` means: only at the start of a sentence."""

    strong: tuple[NonEmpty, ...] = ()
    """One is enough: `ib`, `trọn gói`, `^nhận làm`."""
    weak: tuple[NonEmpty, ...] = ()
    """Two different ones are needed: `cấp tốc` and `giá`, `dịch vụ` and `tại nhà`."""
    not_cues: tuple[NonEmpty, ...] = ()
    """Phrases that hold a cue but are a topic of their own: `dịch vụ công`."""


class Lexicon(Frozen):
    """How residents write, mapped to how the catalogue is written.

    Keys and values are compared after normalisation (lower case, diacritics folded), so
    `đk` and `dk` are the same key.
    """

    abbreviations: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    """Single tokens: `ks` -> `khai sinh`, `j` -> `gi`. An ambiguous token lists its readings,
    most likely first: `tt` -> [`thu tuc`, `tam tru`, `thuong tru`]."""
    phrases: dict[str, str] = Field(default_factory=dict)
    """Multi-word colloquial or old terms: `ho khau` -> `thuong tru`, `cong chung` -> `chung thuc`.
    An empty value deletes the phrase (`cho em hoi` -> nothing)."""
    stopwords: tuple[str, ...] = ()
    """Words (or short phrases) that carry no meaning for matching (dạ, ạ, ad, người ta, ...)."""
    advertising: AdvertisingCues = Field(default_factory=lambda: AdvertisingCues())
    """What only an advertisement says: a message that does is not a resident's question, however
    many procedure words it borrows ("làm sổ đỏ cấp tốc, bao trọn gói, ib ngay")."""
    elsewhere: dict[str, tuple[NonEmpty, ...]] = Field(default_factory=dict)
    """Topics that are other bodies' business, by family (court cases, customs and rites, taxes,
    schools...): a message naming one is less likely the ward's ("mâm cúng đầy tháng gồm những
    gì"). A phrase the catalogue's own phrases use is no such topic (app/matching/topics.py)."""


class Phrasings(Frozen):
    """Residents' messages that teach the matcher how people ask (intents/phrasings.yaml).

    Training data, not must-pass questions: a line need not reach its procedure on its own (that
    is what a procedure's `examples` promise). The loader refuses a code or an intent id that
    does not exist, naming its line.
    """

    procedures: dict[str, tuple[NonEmpty, ...]] = Field(default_factory=dict)
    """Procedure code -> messages about it."""
    intents: dict[str, tuple[NonEmpty, ...]] = Field(default_factory=dict)
    """Intent id -> messages for it."""
    none: tuple[NonEmpty, ...] = ()
    """Messages to answer with nothing: advertisements, other agencies' business, chit-chat."""


class IntentSet(Frozen):
    intents: tuple[Intent, ...]
    lexicon: Lexicon
    phrasings: Phrasings = Field(default_factory=lambda: Phrasings())

    @model_validator(mode="after")
    def _required_and_unique(self) -> IntentSet:
        ids = [i.id for i in self.intents]
        missing = [i for i in REQUIRED_INTENTS if i not in ids]
        if missing:
            raise ValueError(f"missing built-in intents: {missing}")
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate intent ids: {dupes}")
        return self

    def get(self, intent_id: str) -> Intent | None:
        return next((i for i in self.intents if i.id == intent_id), None)
