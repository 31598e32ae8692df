"""Matcher figures on the residents' phrasings (intents/phrasings.yaml), each line scored by a
matcher that did not learn from it: the honest view of what the learned scorer generalises.

    .venv/bin/python bench/crossval_matcher.py [--folds 5] [--misses]

- **k-fold**: line i of every procedure, intent and `none` list is in fold i mod k; each fold
  is scored by a matcher taught the other folds. Writers' styles leak across folds (one writer
  wrote a procedure's lines), so this is the optimistic view.
- **category out**: each category's procedures lose all their phrasings, and their lines are
  scored by a matcher taught every other category: what happens to procedures nobody wrote
  phrasings for (the phrase scorer alone must keep them, the learned scorer must not steal them).
- **untaught**: a matcher with no phrasings at all, for reference (round 1's matcher).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalogue import Content, load_content  # noqa: E402
from app.catalogue.intents import Phrasings  # noqa: E402
from app.matching.evaluate import (  # noqa: E402
    INTENT_PREFIX,
    NONE_LABEL,
    EvalReport,
    LabelledQuestion,
    Outcome,
    evaluate,
)
from app.matching.matcher import Matcher  # noqa: E402

Keep = Callable[[str, int], bool]
"""Whether the line at this index of this list (a code, `intent:<id>` or `none`) is taught."""


def questions(phrasings: Phrasings) -> list[tuple[str, int, LabelledQuestion]]:
    """Every phrasing as (its list, its index in it, the labelled question)."""
    found: list[tuple[str, int, LabelledQuestion]] = []
    lists = [
        *phrasings.procedures.items(),
        *((f"{INTENT_PREFIX}{i}", lines) for i, lines in phrasings.intents.items()),
        (NONE_LABEL, phrasings.none),
    ]
    for label, lines in lists:
        for index, text in enumerate(lines):
            question = LabelledQuestion(text, frozenset({label}), f"{label}[{index}]")
            found.append((label, index, question))
    return found


def taught(phrasings: Phrasings, keep: Keep) -> Phrasings:
    def kept(label: str, lines: Sequence[str]) -> tuple[str, ...]:
        return tuple(text for index, text in enumerate(lines) if keep(label, index))

    return Phrasings(
        procedures={c: kept(c, lines) for c, lines in phrasings.procedures.items()},
        intents={i: kept(f"{INTENT_PREFIX}{i}", lines) for i, lines in phrasings.intents.items()},
        none=kept(NONE_LABEL, phrasings.none),
    )


def scored(content: Content, keep: Keep) -> list[Outcome]:
    """The lines `keep` leaves out, scored by a matcher taught the others."""
    phrasings = content.intents.phrasings
    intents = content.intents.model_copy(update={"phrasings": taught(phrasings, keep)})
    matcher = Matcher(content.catalogue, intents)
    held = [q for label, index, q in questions(phrasings) if not keep(label, index)]
    return list(evaluate(matcher, held).outcomes)


def main(argv: list[str]) -> None:
    folds = int(argv[argv.index("--folds") + 1]) if "--folds" in argv else 5
    content = load_content(ROOT / "procedures.yaml", ROOT / "intents")
    started = time.perf_counter()
    reports: dict[str, EvalReport] = {}

    outcomes: list[Outcome] = []
    for fold in range(folds):
        outcomes += scored(content, lambda _label, index, f=fold: index % folds != f)
    reports[f"{folds}-fold"] = EvalReport(tuple(outcomes))

    category = {p.code: p.category for p in content.catalogue.procedures}
    outcomes = []
    for name in sorted(set(category.values())):
        outcomes += scored(content, lambda label, _index, n=name: category.get(label) != n)
    reports["category out"] = EvalReport(tuple(outcomes))

    untaught = content.intents.model_copy(update={"phrasings": Phrasings()})
    every = [q for _label, _index, q in questions(content.intents.phrasings)]
    reports["untaught"] = evaluate(Matcher(content.catalogue, untaught), every)
    in_categories = [q for q in every if not q.expected.isdisjoint(category)]
    reports["untaught, procs"] = evaluate(Matcher(content.catalogue, untaught), in_categories)

    for name, report in reports.items():
        print(f"{name:16s} {report.summary()}")
        if "--misses" in argv and name == f"{folds}-fold":
            for o in report.outcomes:
                if o.correct and not o.wrong_and_confident:
                    continue
                options = ", ".join(f"{c.id}:{c.score:.0f}" for c in o.result.alternatives[:3])
                expected = "|".join(sorted(o.question.expected))
                print(f"    {expected:24s} {o.result.kind:9s} [{options}] {o.question.text}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
